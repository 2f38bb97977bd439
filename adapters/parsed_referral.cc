#include "adapters/parsed_referral.h"

namespace frontdoor::adapters {

const char* MessageFormatName(MessageFormat format) {
  switch (format) {
    case MessageFormat::kTyped:
      return "typed";
    case MessageFormat::kFhir:
      return "fhir";
    case MessageFormat::kHl7v2:
      return "hl7v2";
  }
  return "typed";
}

}  // namespace frontdoor::adapters
