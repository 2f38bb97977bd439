#include "reporting/outcome_instruments.h"

#include <iterator>

namespace frontdoor::reporting {
namespace {

constexpr char kWemwbsSource[] =
    "Maheswaran et al. 2012, Health Qual Life Outcomes 10:156: 3 to 8 points (1 to 2.77 SEM); lower bound";
constexpr char kSwemwbsSource[] =
    "Shah et al. 2018, Health Qual Life Outcomes 16:239: between 1 and 3 points (1 to 2.77 SEM); lower bound";
constexpr char kOns4Source[] =
    "No published minimal important difference for ONS4 found; 1 point, the smallest change an answer records";

// The order reports list them in.
constexpr OutcomeInstrument kInstruments[] = {
    {"SWEMWBS", 1, false, kSwemwbsSource},
    {"WEMWBS", 3, false, kWemwbsSource},
    {"ONS4", 1, false, kOns4Source},
    {"ONS4-SATISFACTION", 1, false, kOns4Source},
    {"ONS4-WORTHWHILE", 1, false, kOns4Source},
    {"ONS4-HAPPINESS", 1, false, kOns4Source},
    {"ONS4-ANXIETY", 1, /*lower_is_better=*/true, kOns4Source},
};

static_assert(std::size(kInstruments) == kOutcomeInstrumentCount);

// Scores are decimals on paper (SWEMWBS metric scores have two places); their differences in
// binary may fall a hair short of a whole point.
constexpr double kTolerance = 1e-9;

}  // namespace

bool OutcomeInstrument::Improved(double start_score, double end_score) const {
  const double better = lower_is_better ? start_score - end_score : end_score - start_score;
  return better >= meaningful_change - kTolerance;
}

absl::Span<const OutcomeInstrument> OutcomeInstruments() { return absl::MakeConstSpan(kInstruments); }

const OutcomeInstrument* FindOutcomeInstrument(std::string_view name) {
  for (const OutcomeInstrument& instrument : kInstruments) {
    if (name == instrument.name) return &instrument;
  }
  return nullptr;
}

}  // namespace frontdoor::reporting
