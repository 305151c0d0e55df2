# Received parser (lib/received/): table tests through a small driver.
#   received_sa      SpamAssassin's own table (../shared/corpus/received)
#   received_cases   our table of real-world shapes, every field, both ways
#   received_sweep   every Received header of the Sisimai bounce corpus
#   received_oracle  agreement with the installed SpamAssassin parser on the
#                    Sisimai headers (skips when SpamAssassin is missing)
#   received_stress  hostile shapes: unbalanced parentheses, a 20 MB value
add_executable(received_rcvd_test ${CMAKE_CURRENT_LIST_DIR}/rcvd_test.c)
target_link_libraries(received_rcvd_test PRIVATE spamtrace)
set(ST_RCVD $<TARGET_FILE:received_rcvd_test>)
set(ST_RCVD_CHECK ${CMAKE_CURRENT_LIST_DIR}/rcvd_check.py)

add_test(NAME received_sa COMMAND ${PYTHON3} ${ST_RCVD_CHECK} sa
  --rcvd ${ST_RCVD}
  --tsv ${ST_SHARED}/corpus/received/spamassassin-rcvd.tsv
  --known ${CMAKE_CURRENT_LIST_DIR}/sa-known-differences.tsv)
add_test(NAME received_cases COMMAND ${PYTHON3} ${ST_RCVD_CHECK} cases
  --rcvd ${ST_RCVD} --cases ${CMAKE_CURRENT_LIST_DIR}/cases.tsv)
add_test(NAME received_sweep COMMAND ${PYTHON3} ${ST_RCVD_CHECK} sweep
  --rcvd ${ST_RCVD} --root ${ST_SHARED}/corpus/bounces
  --allow ${CMAKE_CURRENT_LIST_DIR}/sweep-allow.tsv)
add_test(NAME received_oracle COMMAND ${PYTHON3} ${ST_RCVD_CHECK} oracle
  --rcvd ${ST_RCVD} --root ${ST_SHARED}/corpus/bounces --min 90)
add_test(NAME received_stress COMMAND ${ST_RCVD} --stress)
set_tests_properties(received_sa received_sweep received_oracle
  PROPERTIES SKIP_RETURN_CODE 77)
set_tests_properties(received_stress PROPERTIES TIMEOUT 120)
