# The Check suites.  Each compiles the generic fixture code it tests for the
# host, with the amd64 arch facts (the host is amd64), and reads the built
# guest products from SIGSTEP_BUILD_DIR.
sigstep_check_suite(traceback
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_traceback.c
          ${CMAKE_SOURCE_DIR}/fixtures/eh_frame.c
          ${CMAKE_SOURCE_DIR}/fixtures/traceback.c
          ${CMAKE_SOURCE_DIR}/fixtures/sigprof.c
          ${CMAKE_SOURCE_DIR}/fixtures/spwrite_table.c
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

# sigstep check and matrix: the project's trampolines through `check` give
# the built variants' verdicts; bad files and expectations give status 2.
sigstep_check_suite(cli
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_cli.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_cli PRIVATE sigstep_engine)
target_compile_definitions(test_cli PRIVATE SIGSTEP_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# The full matrix: every row must meet its line of scenarios/expectations.txt
# (found through the build directory's CMakeCache.txt, as a user's run does).
# It writes every report format into build/reports/, which the consumers'
# tests (tests/CMakeLists.txt: xmllint, the SARIF schema, Chromium) read.
set(SIGSTEP_REPORTS "${CMAKE_BINARY_DIR}/reports")
file(MAKE_DIRECTORY "${SIGSTEP_REPORTS}")
add_test(NAME matrix COMMAND sigstep matrix --build-dir ${CMAKE_BINARY_DIR}
  --json ${SIGSTEP_REPORTS}/matrix.json --junit ${SIGSTEP_REPORTS}/matrix.xml
  --sarif ${SIGSTEP_REPORTS}/matrix.sarif --html ${SIGSTEP_REPORTS}/matrix.html)
set_tests_properties(matrix PROPERTIES TIMEOUT 1200 FIXTURES_SETUP matrix_reports)

# The same contracts through the program: one line on stderr, exit 2.
add_test(NAME check-unknown-arch
  COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_status.sh 2 $<TARGET_FILE:sigstep> check --arch mips
          ${CMAKE_SOURCE_DIR}/arch/amd64/trampoline_master.S)
add_test(NAME check-missing-file
  COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_status.sh 2 $<TARGET_FILE:sigstep> check --arch amd64
          ${CMAKE_BINARY_DIR}/no-such-trampoline.S)
file(WRITE "${CMAKE_BINARY_DIR}/tests/malformed-expectations.txt"
  "# arch variant function sigprof expect\n*  seed  *  go1.11  fail wrongg\n")
add_test(NAME matrix-malformed-expectations
  COMMAND ${CMAKE_SOURCE_DIR}/tests/expect_status.sh 2 $<TARGET_FILE:sigstep> matrix
          --expectations ${CMAKE_BINARY_DIR}/tests/malformed-expectations.txt)

# Probe mode: the verdicts of every boundary against the shadow stack,
# the expected history of prefix / seed / master on each architecture.
sigstep_check_suite(probe
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_probe.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_probe PRIVATE sigstep_engine)

# Scenario files and mutant headers: malformed input is FILE:LINE and
# status 2; expectations judge as documented; sample and nested injection.
sigstep_check_suite(scenario
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_scenario.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_scenario PRIVATE sigstep_engine)
# A mutant through the users' own contract: `sigstep check` builds and
# probes it and must find it broken (exit 1).
add_test(NAME check-mutant-is-killed
  COMMAND sh -c "\"$0\" check --arch amd64 \"$1\" >/dev/null; test $? -eq 1"
          $<TARGET_FILE:sigstep> ${CMAKE_SOURCE_DIR}/scenarios/mutants/amd64/vdsosp_after_switch.S)

# Nested injection's own checks: the handler's clock read and the
# interrupted call's end-of-trial checks (the re-entrancy mutants).
sigstep_check_suite(nested
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_nested.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_nested PRIVATE sigstep_engine)
target_compile_definitions(test_nested PRIVATE SIGSTEP_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# vDSO placement: bad bases refused in one line (loader, commands,
# scenario keys); the second base gives the same verdicts; below the text
# go1.10's external becomes system.
sigstep_check_suite(placement
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_placement.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_placement PRIVATE sigstep_engine)
target_compile_definitions(test_placement PRIVATE SIGSTEP_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# harness/gobinary on the built Go fixtures, held to Go's own readers
# (gosym-dump: debug/elf, debug/gosym, debug/dwarf, debug/buildinfo, built
# for the host) and to the Go 1.19 measurements.  The readers are compiled
# into the suite with AddressSanitizer: a read outside a buffer on a
# truncated or corrupted copy fails the test.  No Go toolchain: skipped
# (exit 77) with the reason printed.
file(GLOB gobinary_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/harness/gobinary/*.c)
set(gobinary_deps guest-amd64)
if(SIGSTEP_GO_VERSION)
  sigstep_go_build(OUTPUT ${CMAKE_BINARY_DIR}/go/gosym-dump SOURCE_DIR ${CMAKE_SOURCE_DIR}/tests/gosym_dump
                   COMMENT "Building gosym-dump (Go's own readers, for test_gobinary)")
  add_custom_target(gosym-dump ALL DEPENDS ${CMAKE_BINARY_DIR}/go/gosym-dump)
  list(APPEND gobinary_deps go-fixtures gosym-dump)
endif()
sigstep_check_suite(gobinary
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_gobinary.c ${gobinary_sources}
  INCLUDES ${CMAKE_SOURCE_DIR}/harness/gobinary
  DEPENDS ${gobinary_deps})
target_link_libraries(test_gobinary PRIVATE sigstep_engine)	# arch_ops_all
target_compile_definitions(test_gobinary PRIVATE SIGSTEP_GO_VERSION="${SIGSTEP_GO_VERSION}")
target_compile_options(test_gobinary PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all
                       -fno-omit-frame-pointer)
target_link_options(test_gobinary PRIVATE -fsanitize=address,undefined)
set_tests_properties(gobinary PROPERTIES SKIP_RETURN_CODE 77)

# The .debug_line reader: against addr2line, and against hostile tables.
sigstep_check_suite(dwarf_line
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_dwarf_line.c
  DEPENDS guest-386 guest-amd64 guest-arm)
target_link_libraries(test_dwarf_line PRIVATE sigstep_engine)

# The matrix's workers: results in their slots whatever the order, a
# killed worker's group alone without verdict, counts without violations.
sigstep_check_suite(workers
  SOURCES ${CMAKE_SOURCE_DIR}/tests/test_workers.c
  DEPENDS guest-amd64)
target_link_libraries(test_workers PRIVATE sigstep_engine)
