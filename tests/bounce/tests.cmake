# tests/bounce: the bounces command (owner: bounce).
#  bounce_reasons          the reason tables, code finders, ccTLDs (C, data:
#                          reasons.tsv)
#  bounce_cases            golden cases in cases/: DSN, vendor text, ARF,
#                          auto-reply, challenge, inline original, not a
#                          bounce, and a campaign mailbox's summary
#  bounce_corpus_expect    ../shared corpus vs Sisimai's expectations.tsv:
#                          recipient recall >= 95%, reason agreement >= 85%
#                          (disagreements.tsv: where the message says
#                          otherwise)
#  bounce_corpus_twins     CRLF and CR twins read like their LF originals
#  bounce_corpus_not       not/ are not bounces
#  bounce_corpus_mailbox   mailbox/ files split right (mbox-0: 37)
#  bounce_gmime_equiv      the fast MIME reader agrees with GMime (gmime/)
#  bounce_html             --html rendered by headless chromium: screenshot
#                          and the DOM's table rows (skips without chromium)
add_executable(bounce_reason_test ${CMAKE_CURRENT_LIST_DIR}/reason_test.c)
target_link_libraries(bounce_reason_test PRIVATE spamtrace)
add_test(NAME bounce_reasons
  COMMAND bounce_reason_test ${CMAKE_CURRENT_LIST_DIR}/reasons.tsv)

add_test(NAME bounce_cases
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/run_cases.py ${ST_CLI}
          ${CMAKE_CURRENT_LIST_DIR}/cases)
set_tests_properties(bounce_cases PROPERTIES TIMEOUT 120)

foreach(mode expect twins not mailbox)
  add_test(NAME bounce_corpus_${mode}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/corpus_check.py ${mode}
            ${ST_CLI} ${ST_SHARED} -v)
  set_tests_properties(bounce_corpus_${mode} PROPERTIES
    SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

add_test(NAME bounce_html
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/html_check.py ${ST_CLI}
          ${CMAKE_CURRENT_LIST_DIR}/cases/campaign.mbox)
set_tests_properties(bounce_html PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 180)

# bounce_gmime_equiv: the fast MIME reader and GMime (ST_BOUNCE_GMIME=1)
# give the same records on gmime/ (hand-made shapes) and, when present,
# the ../shared corpus.
add_test(NAME bounce_gmime_equiv
  COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/gmime_equiv.py ${ST_CLI}
          ${ST_SHARED} ${CMAKE_CURRENT_LIST_DIR}/gmime)
set_tests_properties(bounce_gmime_equiv PROPERTIES TIMEOUT 300)
