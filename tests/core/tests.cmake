# Core: dates, the input reader (message / mbox / Maildir / directory /
# stdin, line endings), the header scanner and decoding, the config file.
add_executable(date_test ${CMAKE_CURRENT_LIST_DIR}/date_test.c)
target_link_libraries(date_test PRIVATE spamtrace)
add_test(NAME core_dates COMMAND date_test ${CMAKE_CURRENT_LIST_DIR}/dates.tsv)
add_test(NAME core_input
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_input.py ${ST_CLI})
add_test(NAME core_corpus_mailbox
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_corpus_mailbox.py ${ST_CLI} ${ST_SHARED})
set_tests_properties(core_corpus_mailbox PROPERTIES SKIP_RETURN_CODE 77)
add_executable(arena_test ${CMAKE_CURRENT_LIST_DIR}/arena_test.c)
target_link_libraries(arena_test PRIVATE spamtrace)
add_test(NAME core_arena COMMAND arena_test)
add_test(NAME core_cli_args
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_cli_args.py ${ST_CLI}
          ${CMAKE_CURRENT_LIST_DIR}/cli_args.tsv ${CMAKE_SOURCE_DIR}/examples)
add_executable(fmt_test ${CMAKE_CURRENT_LIST_DIR}/fmt_test.c)
target_include_directories(fmt_test PRIVATE ${CMAKE_SOURCE_DIR}/lib)
target_compile_options(fmt_test PRIVATE -Wno-format-overflow -Wno-format-zero-length)
target_link_libraries(fmt_test PRIVATE spamtrace)
add_test(NAME core_fmt COMMAND fmt_test)
add_executable(pick_test ${CMAKE_CURRENT_LIST_DIR}/pick_test.c)
target_link_libraries(pick_test PRIVATE spamtrace)
add_test(NAME core_msg_pick COMMAND pick_test)
