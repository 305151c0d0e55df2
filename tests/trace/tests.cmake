# The trace: data-driven cases (tests/trace/cases) and legitimate mail that
# must not get a high-severity finding (tests/trace/legit).
add_test(NAME trace_cases
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_trace.py ${ST_CLI})
add_test(NAME trace_examples
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_examples.py ${ST_CLI}
          ${CMAKE_SOURCE_DIR}/examples)
# An expert's expectations for 48 real-world-style messages (spam and
# legitimate mail of every common kind): every field must agree.
add_test(NAME trace_heldout
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/heldout/evaluate.py ${ST_CLI} --check)
# A second expert's set (42 messages: IPv6, CGNAT, tenant to tenant,
# hosting, forwarding, ARF, loops), written after the first was passing.
add_test(NAME trace_heldout2
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/heldout/evaluate.py ${ST_CLI} --check
          --dir ${CMAKE_CURRENT_LIST_DIR}/heldout2)
