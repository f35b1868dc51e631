# Executes one notebook as a test: copies SOURCE into WORK_DIR/<name>/ and runs
# PYTHON -m nbconvert --to notebook --execute on the copy, writing <name>.executed.ipynb beside it
# (the source is never touched). Fails, with nbconvert's output, if any cell raises.
# cmake -DPYTHON=/usr/bin/python3 -DSOURCE=notebooks/x.ipynb -DWORK_DIR=build/notebooks/run -P run_notebook.cmake
foreach(v PYTHON SOURCE WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_notebook.cmake: -D${v}=... is required")
  endif()
endforeach()
get_filename_component(_name ${SOURCE} NAME_WE)
set(_dir ${WORK_DIR}/${_name})  # one directory per notebook: files a notebook writes never collide
file(REMOVE_RECURSE ${_dir})
file(MAKE_DIRECTORY ${_dir})
file(COPY_FILE ${SOURCE} ${_dir}/${_name}.ipynb)

execute_process(COMMAND ${PYTHON} -c "import nbconvert, ipykernel, matplotlib"
                RESULT_VARIABLE _rc ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "run_notebook.cmake: ${PYTHON} cannot import nbconvert, ipykernel and matplotlib "
                      "(Debian: python3-nbconvert python3-ipykernel python3-matplotlib):\n${_err}")
endif()
execute_process(COMMAND ${PYTHON} -m nbconvert --to notebook --execute
                        --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600
                        --output ${_name}.executed.ipynb ${_name}.ipynb
                WORKING_DIRECTORY ${_dir} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "notebook ${_name}.ipynb failed (exit ${_rc}):\n${_out}")
endif()
message(STATUS "notebook ${_name}.ipynb executed: ${_dir}/${_name}.executed.ipynb")
