// The wellbeing instruments a report measures change on (the OutcomeMeasure instruments that
// gateway/feedback/progress_report_rules.h accepts), with the change each one counts as meaningful
// for one person: a report's "improved" is everyone whose score moved that far in the better
// direction between the start and the end of support.
//
//   const OutcomeInstrument* swemwbs = FindOutcomeInstrument("SWEMWBS");
//   bool better = swemwbs != nullptr && swemwbs->Improved(19.25, 24.11);  // true: +4.86 >= 1
//
// The thresholds, and where they come from (each is the smallest change the published evidence
// counts as meaningful for an individual; changing one is a one-line change in the .cc):
//  - WEMWBS (14..70): 3 points. Maheswaran H, Weich S, Powell J, Stewart-Brown S. Evaluating the
//    responsiveness of the Warwick Edinburgh Mental Well-Being Scale (WEMWBS): group and
//    individual level analysis. Health Qual Life Outcomes 2012;10:156. Its standard error of
//    measurement is 2.4..3.1 points across twelve studies: a change of 3 (1 SEM) to 8 (2.77 SEM)
//    points is important at individual level; we count the lower bound.
//  - SWEMWBS (metric score, 7..35): 1 point. Shah N, Cader M, Andrews WP, Wijesekera D,
//    Stewart-Brown SL. Responsiveness of the Short Warwick Edinburgh Mental Well-Being Scale
//    (SWEMWBS): evaluation a clinical sample. Health Qual Life Outcomes 2018;16:239: "a change of
//    between 1 and 3 points" (1 SEM = 1.03 points, 2.77 SEM = 2.87 points); the lower bound, as
//    for WEMWBS.
//  - ONS4 items (ONS4-SATISFACTION, -WORTHWHILE, -HAPPINESS, whole numbers 0..10) and the ONS4
//    mean: 1 point. We found no published minimal important difference for the Office for
//    National Statistics' personal well-being questions (its user guidance gives thresholds for
//    levels, not for change); 1 point is the smallest change a 0..10 answer can record. This one
//    is our choice, not a published figure, and the report says so (OutcomeInstrument.source).
//  - ONS4-ANXIETY: 1 point, as above, but lower is better: a fall of 1 point is an improvement.
//  - ONS4 (the mean of the four) is taken as higher-is-better, which holds when anxiety enters it
//    reversed (10 - anxiety), as in the Personal Wellbeing Score's positive wording (Benson T et
//    al., BMJ Open Quality 2019;8:e000394). The four items are the safer figures.
//
// Pure; thread-safe; the table is static.
#ifndef FRONTDOOR_REPORTING_OUTCOME_INSTRUMENTS_H_
#define FRONTDOOR_REPORTING_OUTCOME_INSTRUMENTS_H_

#include <string_view>

#include "absl/types/span.h"

namespace frontdoor::reporting {

struct OutcomeInstrument {
  const char* name;
  double meaningful_change;  // In the instrument's points.
  bool lower_is_better;
  const char* source;  // Where meaningful_change comes from, in one line.

  // True when the score moved at least meaningful_change in the better direction (within 1e-9, so
  // that 20.25 - 19.25 counts as the whole point it is on paper).
  bool Improved(double start_score, double end_score) const;
};

inline constexpr int kOutcomeInstrumentCount = 7;

// Every instrument (kOutcomeInstrumentCount), in the order reports list them: SWEMWBS, WEMWBS, ONS4, ONS4-SATISFACTION,
// ONS4-WORTHWHILE, ONS4-HAPPINESS, ONS4-ANXIETY.
absl::Span<const OutcomeInstrument> OutcomeInstruments();

// The instrument of that exact name, or nullptr.
const OutcomeInstrument* FindOutcomeInstrument(std::string_view name);

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_OUTCOME_INSTRUMENTS_H_
