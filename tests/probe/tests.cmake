# tests/probe: the SMTP client (lib/smtp) and the relay probe (lib/probe).
#  probe_unit      pure C: the reply parser (table of byte inputs and every
#                  field expected, whole and byte by byte), target syntax,
#                  the battery's address forms.
#  probe_fake      scripted fake SMTP servers in Python on 127.0.0.1: auth
#                  required, tarpit, garbage banner, multi-line replies,
#                  %-hack-only relay, dropped connection, dead port, TLS ...;
#                  each server asserts that DATA never came and QUIT did.
#  probe_postfix   two private Postfix instances on 127.0.0.1 (open relay,
#                  closed); verdicts, no DATA in Postfix's command counts,
#                  empty queue.  Skips (77) without Postfix or root.
#  probe_smtp_data the report sender's side of the client (AUTH, DATA with
#                  dot-stuffing) against a fake server.
add_executable(probe_unit ${CMAKE_CURRENT_LIST_DIR}/test_smtp_reply.c)
target_link_libraries(probe_unit PRIVATE spamtrace)
add_test(NAME probe_unit COMMAND probe_unit)
set_tests_properties(probe_unit PROPERTIES TIMEOUT 30)

add_test(NAME probe_fake
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/probe_fake.py ${ST_CLI})
set_tests_properties(probe_fake PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77)

add_test(NAME probe_postfix
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/probe_postfix.py ${ST_CLI})
set_tests_properties(probe_postfix PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)

add_executable(probe_smtp_send ${CMAKE_CURRENT_LIST_DIR}/smtp_send.c)
target_link_libraries(probe_smtp_send PRIVATE spamtrace)
add_test(NAME probe_smtp_data
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/probe_smtp_data.py
          $<TARGET_FILE:probe_smtp_send>)
set_tests_properties(probe_smtp_data PROPERTIES TIMEOUT 60)
