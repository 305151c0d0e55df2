# tests/milter: the milter (spamtrace milter, lib/milter).
#  milter_self       the small helpers of lib/milter.
#  milter_case_NAME  one decision table case (cases/NAME.case): config,
#                    client, message in; MAIL FROM and end-of-message
#                    decisions, the X-Spamtrace header out; compared both
#                    ways (lib/milter only, no libmilter).
#  milter_mt_NAME    miltertest (Lua, mt/NAME.lua) against the real daemon
#                    on a 127.0.0.1 high port (skipped without miltertest
#                    or without libmilter in this build).
#  milter_reload     SIGHUP reloads the configuration (miltertest).
#  milter_postfix    end to end: a private Postfix on loopback with the
#                    milter, swaks with XCLIENT (skipped without Postfix,
#                    swaks or root).
add_executable(milter_decide ${CMAKE_CURRENT_LIST_DIR}/milter_decide.c)
target_link_libraries(milter_decide PRIVATE spamtrace)
add_test(NAME milter_self COMMAND milter_decide --self)

file(GLOB ST_MILTER_CASES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/cases/*.case)
foreach(c ${ST_MILTER_CASES})
  get_filename_component(n ${c} NAME_WE)
  add_test(NAME milter_case_${n} COMMAND milter_decide ${c})
  set_tests_properties(milter_case_${n} PROPERTIES TIMEOUT 30)
endforeach()

file(GLOB ST_MILTER_LUA CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/mt/*.lua)
foreach(s ${ST_MILTER_LUA})
  get_filename_component(n ${s} NAME_WE)
  add_test(NAME milter_mt_${n}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/run_mt.py ${ST_CLI} ${s})
  set_tests_properties(milter_mt_${n} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
endforeach()

add_test(NAME milter_reload
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/reload_test.py ${ST_CLI}
          ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(milter_reload PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 90)

add_test(NAME milter_postfix
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/postfix_e2e.py ${ST_CLI}
          ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(milter_postfix PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 180
  RESOURCE_LOCK private_postfix)
