# libatls, the product: one library built shared (libatls.so.0) and static (libatls.a) from the
# objects of every module (atls_module() registers them), so the module split stays a source-level
# structure. Every module is compiled with -fvisibility=hidden: the shared library exports exactly
# the functions marked ATLS_API in include/atls/ (test install_symbols). Consumers see only
# include/; src/ is private to the build.
#
# Targets: atls_shared and atls_static (file name atls for both), exported and aliased as
# atls::atls and atls::atls_static. The install rules (headers, libraries, atls.pc, the CMake
# package) are in atls_library_install().
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

function(atls_library)
  get_property(modules GLOBAL PROPERTY ATLS_MODULES)
  set(objects)
  foreach(m IN LISTS modules)
    list(APPEND objects $<TARGET_OBJECTS:${m}>)
  endforeach()
  add_library(atls_shared SHARED ${objects})
  add_library(atls_static STATIC ${objects})
  foreach(t atls_shared atls_static)
    set_target_properties(${t} PROPERTIES OUTPUT_NAME atls
      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
      ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
    target_include_directories(${t} INTERFACE
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    # the public headers name OpenSSL and pthread types; jansson and tpm2-tss stay inside
    # (test install_consumer builds a consumer that cannot include jansson.h)
    target_link_libraries(${t} PUBLIC OpenSSL::SSL OpenSSL::Crypto Threads::Threads
      PRIVATE PkgConfig::JANSSON PkgConfig::TSS2)
  endforeach()
  set_target_properties(atls_shared PROPERTIES VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR} EXPORT_NAME atls)
  set_target_properties(atls_static PROPERTIES EXPORT_NAME atls_static)
  if(NOT ATLS_SANITIZE AND NOT ATLS_FUZZ)
    # every dependency is linked: a missing one is a build error, not a consumer's surprise
    # (sanitizer runtimes are resolved by the executable, so not with them)
    target_link_options(atls_shared PRIVATE LINKER:--no-undefined)
  endif()
  add_library(atls::atls ALIAS atls_shared)
  add_library(atls::atls_static ALIAS atls_static)
endfunction()

# atls_library_install(): headers, both libraries, the CMake package (find_package(atls) ->
# atls::atls, atls::atls_static) and atls.pc, all relocatable (cmake --install --prefix P).
function(atls_library_install)
  set(cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/atls)
  install(TARGETS atls_shared atls_static EXPORT atlsTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/atls
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
  install(EXPORT atlsTargets NAMESPACE atls:: DESTINATION ${cmakedir})
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/atlsConfig.cmake.in
    ${PROJECT_BINARY_DIR}/atlsConfig.cmake INSTALL_DESTINATION ${cmakedir})
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/atlsConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/atlsConfig.cmake ${PROJECT_BINARY_DIR}/atlsConfigVersion.cmake
    DESTINATION ${cmakedir})

  # atls.pc finds its prefix from its own place (${pcfiledir}), so the tree can be moved
  set(pcdir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  if(IS_ABSOLUTE ${pcdir})
    set(ATLS_PC_PREFIX ${CMAKE_INSTALL_PREFIX})
  else()
    string(REGEX REPLACE "[^/]+" ".." up ${pcdir})
    set(ATLS_PC_PREFIX "\${pcfiledir}/${up}")
  endif()
  foreach(dir LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE ${CMAKE_INSTALL_${dir}})
      set(ATLS_PC_${dir} ${CMAKE_INSTALL_${dir}})
    else()
      set(ATLS_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
    endif()
  endforeach()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/atls.pc.in ${PROJECT_BINARY_DIR}/atls.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/atls.pc DESTINATION ${pcdir})
endfunction()
