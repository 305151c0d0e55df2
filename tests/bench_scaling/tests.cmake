# The scaling recipes of docs/scaling.md (owner: bench): loading trace
# --json into SQLite and ranking origins; splitting an mbox into chunks for
# a mapper, GNU parallel --keep-order and --pipe.  Both use only the
# repository's own messages and finish in a few seconds.
add_test(NAME scaling_sqlite
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_sqlite.py ${ST_CLI}
          ${CMAKE_SOURCE_DIR})
set_tests_properties(scaling_sqlite PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
add_test(NAME scaling_chunks
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_chunks.py ${ST_CLI}
          ${CMAKE_SOURCE_DIR})
set_tests_properties(scaling_chunks PROPERTIES TIMEOUT 120)
