// The demo network (config/demo/network/*.csv) as compiled into the binary: network/CMakeLists.txt
// reads the CSV files at configure time and generates demo_network_data.cc, so a gateway started
// anywhere serves the same demo data without the source tree. Editing a CSV file re-runs CMake
// (the files are CMAKE_CONFIGURE_DEPENDS) and re-embeds it.
//
//   absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(DemoNetworkCsvTexts());
//
// NetworkDirectory::LoadDemo() does exactly that; tests use the texts to check that the embedded
// copy has not drifted from the shared reference files.
#ifndef FRONTDOOR_NETWORK_DEMO_NETWORK_DATA_H_
#define FRONTDOOR_NETWORK_DEMO_NETWORK_DATA_H_

#include "network/network_directory.h"

namespace frontdoor::network {

// The embedded texts, byte for byte as in config/demo/network at build time. The object lives for
// the whole program; safe to call from any thread.
const NetworkCsvTexts& DemoNetworkCsvTexts();

}  // namespace frontdoor::network

#endif  // FRONTDOOR_NETWORK_DEMO_NETWORK_DATA_H_
