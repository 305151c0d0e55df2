# tests/hostile: hostile input (issue 7).
#  hostile_limits      pure C: every limit of limits.h the library enforces,
#                      at its boundary and one past it (limits_test.c).
#  hostile_inputs      pathological.py: generated monsters (20 MB header
#                      line, 200,000 Received, NULs, truncations, 5,000
#                      nested multiparts, broken charsets, absurd dates,
#                      random binary, a 10,000-message CRLF mbox, a message
#                      past ST_MAX_MESSAGE_SIZE ...) through trace --json and
#                      bounces --json: no signal, valid JSON Lines, one
#                      record per message, bounded memory, linear time.
#  hostile_no_network  safety.py: trace and bounces never open a socket;
#                      report without --send never connects; probe connects
#                      only to the address given (strace -f).
#  hostile_valgrind    valgrind-run: CLI runs under valgrind (label "slow").
# The fuzz corpora are replayed by the fuzz_replay_<target> tests
# (fuzz/CMakeLists.txt).
add_executable(hostile_limits_test ${CMAKE_CURRENT_LIST_DIR}/limits_test.c)
target_link_libraries(hostile_limits_test PRIVATE spamtrace)
add_test(NAME hostile_limits COMMAND hostile_limits_test)
set_tests_properties(hostile_limits PROPERTIES TIMEOUT 300)

add_test(NAME hostile_inputs
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/pathological.py ${ST_CLI})
set_tests_properties(hostile_inputs PROPERTIES TIMEOUT 900)

add_test(NAME hostile_no_network
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/safety.py ${ST_CLI}
          ${CMAKE_SOURCE_DIR})
set_tests_properties(hostile_no_network PROPERTIES TIMEOUT 600
  SKIP_RETURN_CODE 77)

# About a minute on the 2-core machine (each run 5-12 s under valgrind).
add_test(NAME hostile_valgrind
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/valgrind-run ${ST_CLI} ${CMAKE_SOURCE_DIR})
set_tests_properties(hostile_valgrind PROPERTIES TIMEOUT 600
  SKIP_RETURN_CODE 77 LABELS "valgrind")
