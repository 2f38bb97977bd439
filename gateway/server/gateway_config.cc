#include "gateway/server/gateway_config.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gateway/security/caller_identity.h"
#include "gateway/server/store_selection.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace frontdoor::gateway {
namespace {

// Collects text-format errors instead of printing them.
class ErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

absl::StatusOr<frontdoor::v1::GatewayConfig> ParseConfigText(const std::string& text, const std::string& name) {
  frontdoor::v1::GatewayConfig config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", errors.first()));
  }
  return config;
}

}  // namespace

absl::StatusOr<LoadedConfig> LoadGatewayConfig(const std::string& path) {
  frontdoor::v1::GatewayConfig config;
  absl::StatusOr<network::NetworkDirectory> network = absl::UnknownError("not loaded");
  if (path.empty()) {
    FRONTDOOR_ASSIGN_OR_RETURN(config, ParseConfigText(DemoGatewayConfigText(), "demo gateway configuration"));
    network = network::NetworkDirectory::LoadDemo();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read configuration file ", path));
    std::stringstream text;
    text << in.rdbuf();
    FRONTDOOR_ASSIGN_OR_RETURN(config, ParseConfigText(text.str(), path));
    if (config.network_dir().empty()) {
      network = network::NetworkDirectory::LoadDemo();
    } else {
      std::filesystem::path dir(config.network_dir());
      if (dir.is_relative()) dir = std::filesystem::path(path).parent_path() / dir;
      network = network::NetworkDirectory::LoadFromDirectory(dir.string());
    }
  }
  if (!network.ok()) return network.status();

  std::set<std::string> seen;
  for (const auto& c : config.connectors()) {
    if (network->FindOrganisation(c.endpoint_id()) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("connector endpoint '", c.endpoint_id(), "' is not in organisations.csv"));
    }
    if (!seen.insert(c.endpoint_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("connector endpoint '", c.endpoint_id(), "' is listed twice"));
    }
  }
  // IG officers and operators are people or tools, never an organisation of the network: a name
  // that collided with an ODS code or endpoint would give one certificate two sets of rights.
  std::set<std::string> names;
  for (const auto* list : {&config.ig_officers(), &config.operators()}) {
    for (const std::string& name : *list) {
      if (!IsWellFormedIdentity(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("identity '", name, "' is not of the form [A-Za-z0-9._-]{1,64}"));
      }
      if (network->IsKnownReferringOrganisation(name) || network->FindOrganisation(name) != nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("identity '", name, "' is also an organisation of the network; choose another name"));
      }
      if (!names.insert(name).second) {
        return absl::InvalidArgumentError(absl::StrCat("identity '", name, "' is listed more than once"));
      }
    }
  }
  FRONTDOOR_RETURN_IF_ERROR(ValidateStoreConfig(config.store()));
  return LoadedConfig{std::move(config), *std::move(network)};
}

absl::StatusOr<std::map<std::string, std::string>> ConnectorAddresses(
    const LoadedConfig& loaded, const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> addresses;
  for (const auto& c : loaded.config.connectors()) addresses[c.endpoint_id()] = c.address();
  for (const auto& [endpoint_id, address] : overrides) {
    if (loaded.network.FindOrganisation(endpoint_id) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--connector names '", endpoint_id, "', which is not in organisations.csv"));
    }
    addresses[endpoint_id] = address;
  }
  // An organisation of the network without an address cannot be delivered to: its rows stay pending
  // (nothing is lost) until one is configured. Say so rather than fail.
  return addresses;
}

DeliveryPolicy DeliveryPolicyFrom(const frontdoor::v1::GatewayConfig& config) {
  DeliveryPolicy policy;
  const auto& d = config.delivery();
  if (d.initial_backoff_ms() > 0) policy.initial_backoff = absl::Milliseconds(d.initial_backoff_ms());
  if (d.max_backoff_ms() > 0) policy.max_backoff = absl::Milliseconds(d.max_backoff_ms());
  if (d.attempt_deadline_ms() > 0) policy.attempt_deadline = absl::Milliseconds(d.attempt_deadline_ms());
  if (d.batch_size() > 0) policy.batch_size = static_cast<int>(d.batch_size());
  // Dead letters and the circuit breaker.
  policy.dead_letter.max_attempts = d.dead_letter_after_attempts();
  if (d.dead_letter_after_ms() > 0) policy.dead_letter.max_age = absl::Milliseconds(d.dead_letter_after_ms());
  if (d.breaker_failure_threshold() > 0)
    policy.breaker.failure_threshold = static_cast<int>(d.breaker_failure_threshold());
  policy.breaker.open_for = d.breaker_open_ms() > 0 ? absl::Milliseconds(d.breaker_open_ms()) : policy.initial_backoff;
  policy.breaker.max_open = policy.max_backoff;
  return policy;
}

InboundLimits InboundLimitsFrom(const frontdoor::v1::GatewayConfig& config) {
  InboundLimits limits;
  if (config.limits().max_message_bytes() > 0) limits.max_message_bytes = config.limits().max_message_bytes();
  return limits;
}

}  // namespace frontdoor::gateway
