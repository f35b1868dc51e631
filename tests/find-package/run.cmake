# tests/find-package/run.cmake: installs a scaleinv build into a fresh prefix, then configures,
# builds and runs the consumer project beside this script against that prefix alone, and checks
# its output and the installed CLI's. Everything it writes goes under WORK_DIR (in the build tree).
#   cmake -DBUILD_DIR=... -DWORK_DIR=... -DCONSUMER_DIR=... -DGENERATOR=... -DCXX_COMPILER=...
#         -DBUILD_TYPE=... -DVERSION=... [-DLAUNCHER=...] -P run.cmake
foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR CXX_COMPILER BUILD_TYPE VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/consumer)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${BUILD_TYPE} --prefix ${prefix})

# The consumer's flags are its own: none from the environment either.
unset(ENV{CXXFLAGS})
unset(ENV{LDFLAGS})
unset(ENV{CMAKE_PREFIX_PATH})
set(configure ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF -DEXPECTED_VERSION=${VERSION})
if(LAUNCHER)
  list(APPEND configure -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
step("configure the consumer" ${configure})
step("build the consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${BUILD_TYPE})

step("run the consumer" ${consumer_build}/consumer)
set(plain "${output}")
message(STATUS "consumer:\n${plain}")
foreach(expected "dimension 15\n" "paths 24\n" "predict 2x5 fast=1 " "teacher ")
  string(FIND "${plain}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the consumer's output lacks '${expected}':\n${plain}")
  endif()
endforeach()
# With Eigen products of its own and scaleinv::build_flags, the library computes the same bits.
step("run consumer_matched" ${consumer_build}/consumer_matched)
if(NOT output STREQUAL plain)
  message(FATAL_ERROR "consumer_matched (scaleinv::build_flags, a MatrixXd product of its own) differs from "
                      "consumer:\n${output}\nagainst\n${plain}")
endif()

if(EXISTS ${prefix}/bin/scaleinv)
  step("run the installed CLI" ${prefix}/bin/scaleinv analyze mlp:4-3-2 --json)
  if(NOT output MATCHES "\"dimension\": *15[,\n ]")
    message(FATAL_ERROR "the installed CLI's analyze lacks dimension 15:\n${output}")
  endif()
  step("ask the installed CLI its version" ${prefix}/bin/scaleinv --version)
  if(NOT output STREQUAL "scaleinv ${VERSION}\n")
    message(FATAL_ERROR "the installed CLI says '${output}', the project's version is ${VERSION}")
  endif()
endif()
message(STATUS "find_package(scaleinv) from ${prefix}: consumer and CLI ok")
