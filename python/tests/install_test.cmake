# Installs the python component into PREFIX and imports it from there: the package must load
# (RUNPATH to the serial OpenBLAS included) and come from PREFIX, not from the build tree.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --component python --prefix ${PREFIX}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install --component python failed (${rc})")
endif()
set(ENV{PYTHONPATH} ${PREFIX}/${SITE})
execute_process(
  COMMAND ${PYTHON} -c
          "import scaleinv, sys; p = scaleinv._scaleinv.__file__; print(p); assert p.startswith(sys.argv[1]), p; \
n = scaleinv.Network.from_spec('mlp:3-4-2,bias'); assert scaleinv.analyze(n)['dimension'] == 22"
          ${PREFIX}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed package does not import from ${PREFIX}/${SITE} (${rc})")
endif()
