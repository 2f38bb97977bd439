// Writes the FHIR Task of every kind of progress report into DIR (one file each), for the FHIR R4
// JSON schema check (check_feedback_tasks.sh), and one deliberately broken Task as bad-task.json.
//   write_feedback_tasks DIR
#include <fstream>
#include <string>

#include "adapters/feedback_messages.h"

int main(int argc, char** argv) {
  namespace v1 = ::frontdoor::v1;
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  frontdoor::adapters::FeedbackMessageContext ctx;
  ctx.event_id = "7";
  ctx.referral_id = "3f1c2b9a-5d7e-4c1a-9e8f-0a1b2c3d4e5f";
  ctx.referrer_ods = "P85901";
  ctx.referrer_reference = "REF-0001";
  ctx.nhs_number = "9434765919";
  ctx.team_id = "oldham-north-royton-wellbeing";
  for (int s = 1; s <= 7; ++s) {
    v1::ReportProgressRequest r;
    r.set_referral_id(ctx.referral_id);
    r.set_idempotency_key("k");
    r.set_status(static_cast<v1::ProgressStatus>(s));
    r.set_occurred_at("2025-02-10T09:30:00+00:00");
    if (s == v1::PROGRESS_CONNECTED) r.add_connected_to("Walking club");
    if (s == v1::PROGRESS_DECLINED || s == v1::PROGRESS_CLOSED) r.set_reason("Goals met");
    if (s == v1::PROGRESS_FIRST_CONVERSATION_HELD) r.set_what_matters("Getting out of the house again");
    if (s == v1::PROGRESS_CLOSED) {
      for (const char* instrument : {"SWEMWBS", "ONS4-HAPPINESS"}) {
        v1::OutcomeMeasure* m = r.add_outcome_measures();
        m->set_instrument(instrument);
        m->set_start_score(instrument[0] == 'S' ? 19.25 : 4);
        m->set_end_score(instrument[0] == 'S' ? 24.11 : 7);
      }
    }
    std::ofstream(dir + "/task-" + v1::ProgressStatus_Name(r.status()) + ".json")
        << frontdoor::adapters::RenderFeedbackTask(ctx, r);
  }
  std::ofstream(dir + "/bad-task.json") << R"({"resourceType":"Task","status":"not-a-status","intent":"order"})";
  return 0;
}
