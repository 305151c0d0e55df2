# Tests of the report module, the case file and the report/cases commands
# (see tests/report/run_tests.py for what each group checks).

# GMime, as a second MIME parser next to Python's email package.
add_executable(report_arf_gmime ${CMAKE_CURRENT_LIST_DIR}/arf_gmime.c)
target_link_libraries(report_arf_gmime PRIVATE PkgConfig::GMIME)

# Unit tests of the pure functions (grouping, rendering, encoders).
add_executable(report_unit ${CMAKE_CURRENT_LIST_DIR}/unit.c)
target_link_libraries(report_unit PRIVATE spamtrace)
target_include_directories(report_unit PRIVATE ${CMAKE_SOURCE_DIR}/lib)
add_test(NAME report_unit COMMAND report_unit ${CMAKE_CURRENT_LIST_DIR})

foreach(group arf letters send store)
  add_test(NAME report_${group}
    COMMAND ${PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/run_tests.py ${ST_CLI}
            $<TARGET_FILE:report_arf_gmime> ${CMAKE_SOURCE_DIR} ${group})
  set_tests_properties(report_${group} PROPERTIES TIMEOUT 300
    SKIP_RETURN_CODE 77)
endforeach()
