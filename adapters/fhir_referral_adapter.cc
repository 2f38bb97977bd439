// The public entry points (fhir_referral_adapter.h): simdjson's fast path first, else the guarded
// RapidJSON reader; both trees are mapped by FhirMapper (fhir_mapper.h).
#include "adapters/fhir_referral_adapter.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/fhir_mapper.h"
#include "adapters/fhir_rapidjson_reader.h"
#include "adapters/fhir_simdjson_reader.h"
#include "adapters/parsed_referral.h"
#include "rapidjson/allocators.h"
#include "rapidjson/document.h"

namespace frontdoor::adapters {

using fhir_internal::FastReader;
using fhir_internal::FhirMapper;
using fhir_internal::kThreadParserBytes;
using fhir_internal::RapidNode;
using fhir_internal::ReadFast;
using fhir_internal::ReadGuarded;
using fhir_internal::Tape;
using fhir_internal::TapeNode;
using frontdoor::v1::Issue;

ParsedReferral ParseFhirReferral(std::string_view json, const FhirLimits& limits) {
  if (std::optional<ParsedReferral> parsed = ParseFhirReferralWithSimdjson(json, limits)) return std::move(*parsed);
  return ParseFhirReferralWithRapidJson(json, limits);
}

std::optional<ParsedReferral> ParseFhirReferralWithSimdjson(std::string_view json, const FhirLimits& limits) {
  static thread_local FastReader thread_reader;
  std::optional<FastReader> own_reader;
  FastReader& reader = json.size() <= kThreadParserBytes ? thread_reader : own_reader.emplace();
  std::optional<size_t> root = ReadFast(json, limits, reader);
  if (!root) return std::nullopt;
  ParsedReferral parsed;
  parsed.format = MessageFormat::kFhir;
  const Tape tape(reader.parser.doc, reader.keys);
  FhirMapper<TapeNode>(parsed).Map(TapeNode(tape, *root));
  return parsed;
}

ParsedReferral ParseFhirReferralWithRapidJson(std::string_view json, const FhirLimits& limits) {
  ParsedReferral parsed;
  parsed.format = MessageFormat::kFhir;
  std::string buffer;
  // The tree of a typical referral fits this per-thread block, so parsing makes no allocation for
  // it (a larger message takes more blocks from the heap, freed with the document).
  alignas(8) static thread_local char tree_block[32 * 1024];
  rapidjson::MemoryPoolAllocator<> pool(tree_block, sizeof tree_block);
  rapidjson::Document document(&pool);
  if (std::optional<std::string> error = ReadGuarded(json, limits, buffer, document)) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message(*error);
    issue.set_severity(Issue::ERROR);
    return parsed;
  }
  if (!document.IsObject()) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message("not a FHIR resource: the JSON root is not an object");
    issue.set_severity(Issue::ERROR);
    return parsed;
  }
  FhirMapper<RapidNode>(parsed).Map(RapidNode(&document));
  return parsed;
}

}  // namespace frontdoor::adapters
