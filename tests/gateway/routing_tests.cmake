# Routing unit tests (ROUTING.md rules 1-4 against the embedded demo network). Included from
# tests/gateway/CMakeLists.txt. referral_routing.cc lives in frontdoor_gateway, which links
# frontdoor_network and frontdoor_proto; network/demo_network_data.h comes from frontdoor_network.
frontdoor_add_test(referral_routing_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/referral_routing_test.cc
  LIBS frontdoor_gateway frontdoor_network frontdoor_proto
  LABELS unit)
