# tests/dns: the dns module.
#  dns_unit       pure C: reverse names, host name and listing checks, the
#                 DNS answer reader on hand-made packets (no network).
#  dns_resolver   dnsmasq on loopback; dns_test (the library API) on the
#                 addresses of cases.json, compared both ways.
#  dns_dead       a UDP port that never answers: warning, partial results,
#                 well within 20 s (library and CLI).
#  dns_cache      the SQLite cache file: a second run is served from it.
#  dns_cli        spamtrace trace --dns --json on tests/dns/*.eml.
add_executable(dns_unit ${CMAKE_CURRENT_LIST_DIR}/dns_unit.c)
target_link_libraries(dns_unit PRIVATE spamtrace)
target_include_directories(dns_unit PRIVATE ${CMAKE_SOURCE_DIR}/lib)
add_test(NAME dns_unit COMMAND dns_unit)

add_executable(dns_test ${CMAKE_CURRENT_LIST_DIR}/dns_test.c)
target_link_libraries(dns_test PRIVATE spamtrace)

foreach(part resolver dead cache cli)
  add_test(NAME dns_${part}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dns_test.py ${part}
            $<TARGET_FILE:dns_test> ${ST_CLI} ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(dns_${part} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
endforeach()
