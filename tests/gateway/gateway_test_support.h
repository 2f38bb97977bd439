// What the gateway's end-to-end tests share: the options of a test gateway on a loopback port,
// and reading a metric from the registry it was given.
//
//   GatewayOptions options = LoopbackGatewayOptions(dir_.path(), connector_.address());
//   options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path(), "...");
//   auto server = GatewayServer::Start(options, &clock_);
//   EXPECT_EQ(ReadMetric(*registry, "frontdoor_commit_queue_full_total"), 0);
#ifndef FRONTDOOR_TESTS_GATEWAY_GATEWAY_TEST_SUPPORT_H_
#define FRONTDOOR_TESTS_GATEWAY_GATEWAY_TEST_SUPPORT_H_

#include <map>
#include <string>

#include "gateway/server/gateway_server.h"
#include "prometheus/registry.h"

namespace frontdoor::gateway::testing {

// Plaintext on 127.0.0.1, any port, its data in `home`/data, and every connector endpoint of the
// demo network delivering to `connector_address`. config_path is left to the test.
GatewayOptions LoopbackGatewayOptions(const std::string& home, const std::string& connector_address);

// The value of `name` (a counter, a gauge, or a histogram's sample count) with all of `labels`
// (none: its first series); -1 when there is none.
double ReadMetric(prometheus::Registry& registry, const std::string& name,
                  const std::map<std::string, std::string>& labels = {});

}  // namespace frontdoor::gateway::testing

#endif  // FRONTDOOR_TESTS_GATEWAY_GATEWAY_TEST_SUPPORT_H_
