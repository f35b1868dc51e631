# FindOpenBLASSerial: the single-threaded OpenBLAS of Debian's libopenblas-serial-dev, by its own
# directory, so the system's libblas.so.3 alternative (used by other programs, such as PyTorch) is
# left alone. Defines OpenBLAS::serial. Set OpenBLASSerial_LIBRARY to use another libopenblas.
# Used by the build and, installed beside scaleinvConfig.cmake, by the package config: a static
# scaleinv still needs its BLAS at a consumer's link step.
find_library(OpenBLASSerial_LIBRARY NAMES openblas
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-serial /usr/lib/x86_64-linux-gnu/openblas-serial
             NO_DEFAULT_PATH)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenBLASSerial REQUIRED_VARS OpenBLASSerial_LIBRARY)
if(OpenBLASSerial_FOUND AND NOT TARGET OpenBLAS::serial)
  add_library(OpenBLAS::serial UNKNOWN IMPORTED)
  set_target_properties(OpenBLAS::serial PROPERTIES IMPORTED_LOCATION "${OpenBLASSerial_LIBRARY}")
endif()
mark_as_advanced(OpenBLASSerial_LIBRARY)
