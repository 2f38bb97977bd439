#include "observability/gateway_metrics.h"

#include <string>

#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace frontdoor::observability {
namespace {

std::string Exposition(const GatewayMetrics& metrics) {
  std::vector<prometheus::MetricFamily> families = metrics.registry()->Collect();
  for (auto& f : metrics.outbox_collectable()->Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

TEST(GatewayMetricsTest, ReferralsAreCountedOnTheInjectedRegistryWithTheirLabels) {
  auto registry = std::make_shared<prometheus::Registry>();
  GatewayMetrics metrics(registry, nullptr);
  metrics.CountReferral({"REFUSED", "IG-1", "oldham", "fhir"}, {"IG-1", "IG-2"});
  metrics.CountReferral({"REFUSED", "IG-1", "oldham", "fhir"}, {"IG-1"});
  const std::string text = Exposition(metrics);
  EXPECT_NE(text.find(R"(frontdoor_referrals_total{borough="oldham",disposition="REFUSED",format="fhir",rule="IG-1"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(frontdoor_referral_rules_total{borough="oldham",disposition="REFUSED",format="fhir",rule="IG-2"} 1)"),
            std::string::npos);
}

TEST(GatewayMetricsTest, LabelValuesAreBoundedWords) {
  auto registry = std::make_shared<prometheus::Registry>();
  GatewayMetrics metrics(registry, nullptr);
  metrics.CountReferral({"ACCEPTED", "", "", "typed"}, {});
  metrics.CountReferral({"ACCEPTED", "Mrs Smith, 9991951024", std::string(100, 'x'), "typed"}, {});
  const std::string text = Exposition(metrics);
  EXPECT_NE(text.find(R"(borough="unknown",disposition="ACCEPTED",format="typed",rule="none"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(borough="other",disposition="ACCEPTED",format="typed",rule="other"} 1)"), std::string::npos);
  EXPECT_EQ(text.find("9991951024"), std::string::npos);
}

TEST(GatewayMetricsTest, MethodNamesAreCappedSoHostileCallsCannotGrowTheRegistry) {
  auto registry = std::make_shared<prometheus::Registry>();
  GatewayMetrics metrics(registry, nullptr);
  for (int i = 0; i < 500; ++i) metrics.ObserveGrpcCall("/x.Y/M" + std::to_string(i), "UNIMPLEMENTED", 0.001);
  const std::string text = Exposition(metrics);
  EXPECT_NE(text.find(R"(frontdoor_grpc_server_handled_total{code="UNIMPLEMENTED",method="other"} 436)"),
            std::string::npos)
      << text.substr(0, 2000);
}

TEST(GatewayMetricsTest, OutboxGaugesAreReadAtEachScrape) {
  auto registry = std::make_shared<prometheus::Registry>();
  int64_t pending = 1;
  GatewayMetrics metrics(registry, [&pending]() -> absl::StatusOr<std::vector<OutboxDepthSample>> {
    if (pending < 0) return absl::UnavailableError("store closed");
    return std::vector<OutboxDepthSample>{{"ageuk-oldham", pending, 2}};
  });
  EXPECT_NE(Exposition(metrics).find(R"(frontdoor_outbox_pending{endpoint="ageuk-oldham"} 1)"), std::string::npos);
  pending = 5;
  const std::string text = Exposition(metrics);
  EXPECT_NE(text.find(R"(frontdoor_outbox_pending{endpoint="ageuk-oldham"} 5)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(frontdoor_outbox_dead_letters{endpoint="ageuk-oldham"} 2)"), std::string::npos);
  pending = -1;
  const std::string failed = Exposition(metrics);
  EXPECT_EQ(failed.find("frontdoor_outbox_pending{"), std::string::npos);
  EXPECT_NE(failed.find("frontdoor_outbox_scrape_errors_total 1"), std::string::npos) << failed;
}

TEST(GatewayMetricsTest, DeliveryLatencyIsObservedOnlyForAcknowledgedDeliveries) {
  auto registry = std::make_shared<prometheus::Registry>();
  GatewayMetrics metrics(registry, nullptr);
  metrics.CountDeliveryAttempt("mind-oldham", "deliver", "failed", -1);
  metrics.CountDeliveryAttempt("mind-oldham", "deliver", "delivered", 0.2);
  metrics.CountDeliveryAttempt("mind-oldham", "cease", "delivered", 0.3);
  metrics.CountDeliveryAttempt("mind-oldham", "deliver", "dead_letter", -1);
  const std::string text = Exposition(metrics);
  EXPECT_NE(text.find(R"(frontdoor_delivery_latency_seconds_count{endpoint="mind-oldham"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(frontdoor_delivery_latency_seconds_bucket{endpoint="mind-oldham",le="0.25"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(frontdoor_dead_letters_total{endpoint="mind-oldham"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(frontdoor_delivery_attempts_total{endpoint="mind-oldham",kind="deliver",outcome="failed"} 1)"),
            std::string::npos);
}

}  // namespace
}  // namespace frontdoor::observability
