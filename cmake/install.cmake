# install(): the library, its headers and the CLI, and the CMake package that makes
# find_package(scaleinv) + target_link_libraries(app PRIVATE scaleinv::scaleinv) work from the
# install prefix (tested by tests/find-package). Included by CMakeLists.txt when SCALEINV_INSTALL.
include(CMakePackageConfigHelpers)

set(SCALEINV_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/scaleinv"
    CACHE STRING "Where the CMake package (scaleinvConfig.cmake) is installed, relative to the prefix")

set_target_properties(scaleinv PROPERTIES EXPORT_NAME scaleinv)
install(TARGETS scaleinv EXPORT scaleinvTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})  # include dirs: INSTALL_INTERFACE in lib/
install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
# Generated public headers (lib/CMakeLists.txt puts them on the include path too).
install(DIRECTORY ${PROJECT_BINARY_DIR}/lib/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} OPTIONAL
        FILES_MATCHING PATTERN "*.hpp")

if(TARGET scaleinv_tool)
  # The serial OpenBLAS lives outside the loader's default path (its libopenblas.so.0 is a Debian
  # alternative that may point at the threaded build): keep that directory in the installed CLI's
  # RUNPATH, as the build tree's binaries have it.
  set_target_properties(scaleinv_tool PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
  install(TARGETS scaleinv_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT scaleinvTargets NAMESPACE scaleinv:: DESTINATION ${SCALEINV_INSTALL_CMAKEDIR})

# Recorded in the package config for its dependencies and for consumers that want to match.
get_target_property(SCALEINV_LIBRARY_TYPE scaleinv TYPE)
if(OpenBLASSerial_FOUND)
  set(SCALEINV_EIGEN_USE_BLAS ON)
else()
  set(SCALEINV_EIGEN_USE_BLAS OFF)
endif()
configure_package_config_file(cmake/scaleinvConfig.cmake.in ${PROJECT_BINARY_DIR}/scaleinvConfig.cmake
                              INSTALL_DESTINATION ${SCALEINV_INSTALL_CMAKEDIR})
# The version is project()'s, the one place it is written.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/scaleinvConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/scaleinvConfig.cmake ${PROJECT_BINARY_DIR}/scaleinvConfigVersion.cmake
              cmake/FindGMP.cmake cmake/FindOpenBLASSerial.cmake
        DESTINATION ${SCALEINV_INSTALL_CMAKEDIR})
