# make install: program, library, headers, pkg-config file, man page.
# (A sanitizer build's library needs the sanitizer runtime to link.)
set(ST_INSTALL_TEST_CC ${CMAKE_C_COMPILER})
if(ST_SANITIZE)
  set(ST_INSTALL_TEST_CFLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME install_tree
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/check_install.sh ${CMAKE_BINARY_DIR}
          ${ST_INSTALL_TEST_CC} "${ST_INSTALL_TEST_CFLAGS}")
