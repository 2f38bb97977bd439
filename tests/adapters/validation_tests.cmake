# Unit tests of adapters/referral_validation (included from tests/adapters/CMakeLists.txt).
frontdoor_add_test(referral_validation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/referral_validation_test.cc
  LIBS frontdoor_adapters
  LABELS unit)
