# Helpers shared by the module and test CMakeLists.txt files.

# atls_module(NAME SOURCES ... [DEPS ...]): static library atls_NAME with the public headers
# (include/) and the private src/ tree on its include path. Tests and tools link these (they may
# use internal symbols); the objects of every module also make up the one product library,
# libatls (cmake/atls_library.cmake), so they are position-independent and hide every symbol
# that is not marked ATLS_API.
function(atls_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(atls_${name} STATIC ${ARG_SOURCES})
  set_target_properties(atls_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden)
  set_property(GLOBAL APPEND PROPERTY ATLS_MODULES atls_${name})
  target_include_directories(atls_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  if(ARG_DEPS)
    target_link_libraries(atls_${name} PUBLIC ${ARG_DEPS})
  endif()
endfunction()

# atls_timeout(OUT SECONDS): SECONDS times ATLS_TEST_TIMEOUT_SCALE (make test-valgrind sets 20:
# valgrind is that much slower). Every test's TIMEOUT goes through it.
function(atls_timeout out seconds)
  if(NOT DEFINED ATLS_TEST_TIMEOUT_SCALE)
    set(ATLS_TEST_TIMEOUT_SCALE 1)
  endif()
  math(EXPR scaled "${seconds} * ${ATLS_TEST_TIMEOUT_SCALE}")
  set(${out} ${scaled} PARENT_SCOPE)
endfunction()

# atls_unit_test(NAME SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT s] [SHARED]): one test
# program, one CTest test. With SHARED the program also has cases on the shared third-party
# samples (tests/lib/vectors.h): they run as a second test NAME_shared (the program with the
# argument "shared", label `shared`), which reports skipped, never passed, without them.
function(atls_unit_test name)
  cmake_parse_arguments(ARG "SHARED" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE atls_testlib ${ARG_DEPS})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  atls_timeout(limit ${ARG_TIMEOUT})
  add_test(NAME ${name} COMMAND ${name})
  set(tests ${name})
  if(ARG_SHARED)
    add_test(NAME ${name}_shared COMMAND ${name} shared)
    list(APPEND tests ${name}_shared)
    set_tests_properties(${name}_shared PROPERTIES LABELS "shared;${ARG_LABELS}")
  endif()
  set_tests_properties(${tests} PROPERTIES
    ENVIRONMENT "ATLS_SHARED_VECTORS=${PROJECT_SOURCE_DIR}/../shared/vectors;ATLS_SOURCE_DIR=${PROJECT_SOURCE_DIR};ATLS_NPM_DIR=${PROJECT_BINARY_DIR}/npm-cache"
    SKIP_RETURN_CODE 77 TIMEOUT ${limit})
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# atls_script_test(NAME SCRIPT [ARGS ...] [LABELS ...] [TIMEOUT s]): a shell test that drives
# the binaries (helpers: tests/cli/lib.sh).
function(atls_script_test name script)
  cmake_parse_arguments(ARG "" "TIMEOUT" "ARGS;LABELS" ${ARGN})
  add_test(NAME ${name} COMMAND bash ${script} ${ARG_ARGS})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "ATLS_BUILD_DIR=${PROJECT_BINARY_DIR};ATLS_SOURCE_DIR=${PROJECT_SOURCE_DIR};ATLS_SHARED_VECTORS=${PROJECT_SOURCE_DIR}/../shared/vectors;ATLS_NPM_DIR=${PROJECT_BINARY_DIR}/npm-cache"
    SKIP_RETURN_CODE 77)
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  atls_timeout(limit ${ARG_TIMEOUT})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${limit})
endfunction()

# atls_add_subdirectories(DIR [EXCEPT name...]): add_subdirectory for every child folder of DIR
# that has a CMakeLists.txt, in name order. A layer folder (src/codec, tests/evidence, ...) uses
# it to pick up its modules, so adding a module edits no shared file.
function(atls_add_subdirectories dir)
  cmake_parse_arguments(ARG "" "" "EXCEPT" ${ARGN})
  file(GLOB children LIST_DIRECTORIES true CONFIGURE_DEPENDS ${dir}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    get_filename_component(name ${child} NAME)
    if(IS_DIRECTORY ${child} AND EXISTS ${child}/CMakeLists.txt AND NOT name IN_LIST ARG_EXCEPT)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
