# fuzz/targets.cmake: the list of fuzz targets and what each links, shared by fuzz/CMakeLists.txt
# (libFuzzer binaries, ATLS_FUZZ=ON) and tests/fuzz_regressions/CMakeLists.txt (plain replay
# drivers in every build). A target <name> is fuzz/fuzz_<name>.c.
#
# atls_fuzz_target_info(<name> <deps-var> <extra-sources-var> <extra-includes-var>)
set(ATLS_FUZZ_TARGETS
  frame ea_request ea_auth cmw cbor cose sim
  tpm2_attest tpm2_sig tpm2_public tpm2_quote
  snp tdx_quote tdx_json tdx_collateral policy ear_jwt intra_request
  eventlog_tpm eventlog_ccel eventlog_ima eventlog_record)

set(atls_fuzz_deps_frame atls_frame)
set(atls_fuzz_deps_ea_request atls_ea)
set(atls_fuzz_deps_ea_auth atls_ea atls_testlib)
set(atls_fuzz_deps_cmw atls_cmw)
set(atls_fuzz_deps_cbor atls_cbor)
set(atls_fuzz_deps_cose atls_cose)
set(atls_fuzz_deps_sim atls_sim atls_cose)
set(atls_fuzz_deps_tpm2_attest atls_tpm2)
set(atls_fuzz_deps_tpm2_sig atls_tpm2)
set(atls_fuzz_deps_tpm2_public atls_tpm2)
set(atls_fuzz_deps_tpm2_quote atls_tpm2)
set(atls_fuzz_deps_snp atls_snp atls_evidence)
set(atls_fuzz_deps_tdx_quote atls_tdx atls_evidence)
set(atls_fuzz_deps_tdx_json atls_tdx)
set(atls_fuzz_deps_tdx_collateral atls_tdx atls_cose atls_evidence atls_testlib)
set(atls_fuzz_src_tdx_collateral ${PROJECT_SOURCE_DIR}/tests/evidence/tdx/tdx_testgen.c)
set(atls_fuzz_inc_tdx_collateral ${PROJECT_SOURCE_DIR}/tests/evidence/tdx)
set(atls_fuzz_deps_policy atls_policy atls_registry)
set(atls_fuzz_deps_ear_jwt atls_ear)
set(atls_fuzz_deps_intra_request atls_intra)
set(atls_fuzz_deps_eventlog_tpm atls_eventlog)
set(atls_fuzz_deps_eventlog_ccel atls_eventlog)
set(atls_fuzz_deps_eventlog_ima atls_eventlog)
set(atls_fuzz_deps_eventlog_record atls_eventlog)

# Targets of modules other engineers are adding: only when the module library exists.
if(TARGET atls_cca AND EXISTS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_cca.c)
  list(APPEND ATLS_FUZZ_TARGETS cca)
  set(atls_fuzz_deps_cca atls_cca atls_evidence)
endif()
if(TARGET atls_azure)
  list(APPEND ATLS_FUZZ_TARGETS azure)
  set(atls_fuzz_deps_azure atls_azure atls_evidence)
endif()
if(TARGET atls_tsm AND EXISTS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_tsm.c)
  list(APPEND ATLS_FUZZ_TARGETS tsm)
  set(atls_fuzz_deps_tsm atls_tsm atls_evidence)
endif()

if(TARGET atls_batch)
  list(APPEND ATLS_FUZZ_TARGETS batch)
  set(atls_fuzz_deps_batch atls_batch)
endif()
# stapled collateral of CMW collections (src/appraisal/appraise/stapled.c)
list(APPEND ATLS_FUZZ_TARGETS stapled)
set(atls_fuzz_deps_stapled atls_appraise atls_cmw)

# atls_fuzz_add_sources(<target> <name>): the fuzz source, extra sources, includes and deps.
function(atls_fuzz_add_sources tgt name)
  target_sources(${tgt} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz/fuzz_${name}.c
    ${atls_fuzz_src_${name}})
  target_include_directories(${tgt} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src ${atls_fuzz_inc_${name}})
  target_link_libraries(${tgt} PRIVATE ${atls_fuzz_deps_${name}})
endfunction()
