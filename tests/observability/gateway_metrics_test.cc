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
  EXPECT_NE(
      text.find(R"(frontdoor_referrals_total{borough="oldham",disposition="REFUSED",format="fhir",rule="IG-1"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(frontdoor_referral_rules_total{borough="oldham",disposition="REFUSED",format="fhir",rule="IG-2"} 1)"),
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

TEST(GatewayMetricsTest, RepeatedCallsCountOnTheirOwnLabelSetsOnly) {
  // Each labelled metric is looked up in its family once and kept: every later call must land on
  // the metric of its own labels, never on a neighbour's (same values in other labels, the same
  // values in another family, another code of the same method).
  auto registry = std::make_shared<prometheus::Registry>();
  GatewayMetrics metrics(registry, nullptr);
  for (int i = 0; i < 3; ++i) metrics.CountDeliveryAttempt("mind-oldham", "deliver", "delivered", 0.1);
  metrics.CountDeliveryAttempt("ageuk-oldham", "deliver", "delivered", 0.1);
  for (int i = 0; i < 2; ++i) metrics.CountDeliveryAttempt("mind-oldham", "cease", "delivered", -1);
  metrics.CountDeliveryAttempt("mind-oldham", "deliver", "dead_letter", -1);
  metrics.CountExpiredDeadLetters("mind-oldham", 4);
  for (int i = 0; i < 2; ++i) metrics.CountRouting("team-a", "oldham", true);
  metrics.CountRouting("oldham", "team-a", false);
  for (int i = 0; i < 2; ++i) metrics.ObserveGrpcCall("/a.B/C", "OK", 0.001);
  metrics.ObserveGrpcCall("/a.B/C", "INTERNAL", 0.001);
  const std::string text = Exposition(metrics);
  for (const char* line : {
           R"(frontdoor_delivery_attempts_total{endpoint="mind-oldham",kind="deliver",outcome="delivered"} 3)",
           R"(frontdoor_delivery_attempts_total{endpoint="ageuk-oldham",kind="deliver",outcome="delivered"} 1)",
           R"(frontdoor_delivery_attempts_total{endpoint="mind-oldham",kind="cease",outcome="delivered"} 2)",
           R"(frontdoor_delivery_attempts_total{endpoint="mind-oldham",kind="deliver",outcome="dead_letter"} 1)",
           R"(frontdoor_dead_letters_total{endpoint="mind-oldham"} 5)",
           R"(frontdoor_delivery_latency_seconds_count{endpoint="mind-oldham"} 3)",
           R"(frontdoor_delivery_latency_seconds_count{endpoint="ageuk-oldham"} 1)",
           R"(frontdoor_routed_total{borough="oldham",team="team-a"} 2)",
           R"(frontdoor_routed_total{borough="team-a",team="oldham"} 1)",
           R"(frontdoor_front_door_fallbacks_total{borough="oldham"} 2)",
           R"(frontdoor_grpc_server_handled_total{code="OK",method="/a.B/C"} 2)",
           R"(frontdoor_grpc_server_handled_total{code="INTERNAL",method="/a.B/C"} 1)",
           R"(frontdoor_grpc_server_handling_seconds_count{code="OK",method="/a.B/C"} 2)",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
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
