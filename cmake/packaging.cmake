# Man pages, shell completions and packages (cpack: .deb and .tar.gz).
# The man pages and completion scripts are generated at build time by the
# tool itself from its CLI11 definitions (`flink-savepoint manpage [COMMAND]`,
# `flink-savepoint completion SHELL`), so they always match the options.
include(GNUInstallDirs)

set(FSP_GEN_DIR ${CMAKE_BINARY_DIR}/share)
set(FSP_COMPLETIONS ${FSP_GEN_DIR}/completions/flink-savepoint.bash ${FSP_GEN_DIR}/completions/_flink-savepoint
                    ${FSP_GEN_DIR}/completions/flink-savepoint.fish)
add_custom_command(
  OUTPUT ${FSP_GEN_DIR}/man/flink-savepoint.1 ${FSP_COMPLETIONS}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${FSP_GEN_DIR}/man
  COMMAND ${CMAKE_COMMAND} -E make_directory ${FSP_GEN_DIR}/man ${FSP_GEN_DIR}/completions
  COMMAND $<TARGET_FILE:flink-savepoint> manpage --dir ${FSP_GEN_DIR}/man
  COMMAND sh -c "\"$1\" completion bash > \"$2\"" sh $<TARGET_FILE:flink-savepoint> ${FSP_GEN_DIR}/completions/flink-savepoint.bash
  COMMAND sh -c "\"$1\" completion zsh > \"$2\"" sh $<TARGET_FILE:flink-savepoint> ${FSP_GEN_DIR}/completions/_flink-savepoint
  COMMAND sh -c "\"$1\" completion fish > \"$2\"" sh $<TARGET_FILE:flink-savepoint> ${FSP_GEN_DIR}/completions/flink-savepoint.fish
  DEPENDS flink-savepoint
  COMMENT "Generating man pages and shell completions"
  VERBATIM)
add_custom_target(fsp_docs ALL DEPENDS ${FSP_GEN_DIR}/man/flink-savepoint.1 ${FSP_COMPLETIONS})

install(DIRECTORY ${FSP_GEN_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime FILES_MATCHING PATTERN "*.1")
install(FILES ${FSP_GEN_DIR}/completions/flink-savepoint.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME flink-savepoint COMPONENT runtime)
install(FILES ${FSP_GEN_DIR}/completions/_flink-savepoint DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT runtime)
install(FILES ${FSP_GEN_DIR}/completions/flink-savepoint.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
        COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/flink-savepoint COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/flink-savepoint COMPONENT runtime FILES_MATCHING PATTERN "*.md")

# Packages: `cpack -G DEB` / `cpack -G TGZ` in the build directory (scripts/package.sh).
set(CPACK_PACKAGE_NAME flink-savepoint)
set(CPACK_PACKAGE_VENDOR "flink-savepoint developers")
set(CPACK_PACKAGE_CONTACT "flink-savepoint developers <flink-savepoint@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Read, check and migrate Apache Flink savepoints and checkpoints without a JVM")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_FILE_NAME "flink-savepoint_${PROJECT_VERSION}_${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dependencies from the Debian libraries it links (snappy, zstd, ...; librocksdb is static)
# libcurl and libarchive are opened with dlopen when a store or an archive is used (so
# dpkg-shlibdeps cannot see them): named here.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.75.0), libarchive13")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "flink-savepoint reads Apache Flink savepoint and checkpoint _metadata files and the state files\n they point to, without a JVM and without the job's classes: inspect, check (will the new job\n restore from it?), relocate and lint.")
# The .deb carries the tool (binary, man pages, completions, docs); the library and headers
# are installed by `cmake --install` for programs that link it.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};runtime;/")
include(CPack)
