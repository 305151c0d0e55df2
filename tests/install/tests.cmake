# make install: program, library, headers, pkg-config file, man page.
add_test(NAME install_tree
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_install.sh ${CMAKE_BINARY_DIR} ${CMAKE_C_COMPILER})
