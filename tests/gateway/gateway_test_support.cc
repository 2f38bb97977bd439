#include "tests/gateway/gateway_test_support.h"

namespace frontdoor::gateway::testing {

GatewayOptions LoopbackGatewayOptions(const std::string& home, const std::string& connector_address) {
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = home + "/data";
  options.insecure_plaintext = true;
  for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
    options.connector_overrides[e] = connector_address;
  }
  return options;
}

double ReadMetric(prometheus::Registry& registry, const std::string& name,
                  const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      size_t matched = 0;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched != labels.size()) continue;
      if (family.type == prometheus::MetricType::Histogram) return static_cast<double>(metric.histogram.sample_count);
      if (family.type == prometheus::MetricType::Counter) return metric.counter.value;
      return metric.gauge.value;
    }
  }
  return -1;
}

}  // namespace frontdoor::gateway::testing
