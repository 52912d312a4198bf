# The Check suites.  Each compiles the generic fixture code it tests for the
# host, with the amd64 arch facts (the host is amd64), and reads the built
# guest products from SIGSTEP_BUILD_DIR.
sigstep_check_suite(traceback
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_traceback.c
          ${CMAKE_SOURCE_DIR}/fixtures/eh_frame.c
          ${CMAKE_SOURCE_DIR}/fixtures/traceback.c
          ${CMAKE_SOURCE_DIR}/fixtures/sigprof.c
  INCLUDES ${CMAKE_SOURCE_DIR}/fixtures ${CMAKE_SOURCE_DIR}/arch/amd64
  DEPENDS guest-amd64)

sigstep_check_suite(vdso
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_vdso.c
          ${CMAKE_SOURCE_DIR}/fixtures/vdso_lookup.c
  INCLUDES ${CMAKE_SOURCE_DIR}/fixtures ${CMAKE_SOURCE_DIR}/arch/amd64
           ${CMAKE_SOURCE_DIR}/emulated_vdso
  DEPENDS guest-amd64 guest-386 guest-arm)

sigstep_check_suite(engine
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_engine.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_engine PRIVATE sigstep_engine)
