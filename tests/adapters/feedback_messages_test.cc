// The feedback renderings: a FHIR R4 Task and an HL7 v2 RRI^I12 per progress report.
#include "adapters/feedback_messages.h"

#include "adapters/hl7v2_message.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace frontdoor::adapters {
namespace {

namespace v1 = ::frontdoor::v1;

FeedbackMessageContext Context() {
  FeedbackMessageContext c;
  c.event_id = "42";
  c.referral_id = "0b7c3d1e-referral";
  c.referrer_ods = "R9T01";
  c.referrer_reference = "TGH-REF-1";
  c.referrer_message_id = "TGH2502256530";
  c.nhs_number = "9434765919";
  c.team_id = "tameside-ashton-all";
  c.occurred_at_hl7 = "20250210093000+0000";
  c.message_time_hl7 = "20250210093005+0000";
  return c;
}

v1::ReportProgressRequest Report(v1::ProgressStatus status) {
  v1::ReportProgressRequest r;
  r.set_referral_id("0b7c3d1e-referral");
  r.set_idempotency_key("k");
  r.set_status(status);
  r.set_occurred_at("2025-02-10T09:30:00Z");
  return r;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return d;
}

TEST(FeedbackTaskTest, TaskStatusFollowsTheProgress) {
  const std::pair<v1::ProgressStatus, const char*> cases[] = {{v1::PROGRESS_RECEIVED, "received"},
                                                              {v1::PROGRESS_CONTACTED, "in-progress"},
                                                              {v1::PROGRESS_UNABLE_TO_CONTACT, "in-progress"},
                                                              {v1::PROGRESS_DECLINED, "cancelled"},
                                                              {v1::PROGRESS_CLOSED, "completed"}};
  for (const auto& [status, want] : cases) {
    rapidjson::Document d = Parse(RenderFeedbackTask(Context(), Report(status)));
    EXPECT_STREQ(d["status"].GetString(), want) << status;
    EXPECT_STREQ(d["intent"].GetString(), "order");
  }
}

TEST(FeedbackTaskTest, TakingUpAndDecliningCarryTheNationalSocialPrescribingCodes) {
  auto codes = [](v1::ProgressStatus status) {
    rapidjson::Document d = Parse(RenderFeedbackTask(Context(), Report(status)));
    std::vector<std::string> out;
    for (const auto& c : d["businessStatus"]["coding"].GetArray()) out.push_back(c["code"].GetString());
    return out;
  };
  EXPECT_EQ(codes(v1::PROGRESS_CONNECTED), (std::vector<std::string>{"connected", "871731000000106"}));
  EXPECT_EQ(codes(v1::PROGRESS_FIRST_CONVERSATION_HELD),
            (std::vector<std::string>{"first-conversation-held", "871731000000106"}));
  EXPECT_EQ(codes(v1::PROGRESS_DECLINED), (std::vector<std::string>{"declined", "871711000000103"}));
  EXPECT_EQ(codes(v1::PROGRESS_CONTACTED), (std::vector<std::string>{"contacted"}));
}

TEST(FeedbackTaskTest, FocusIsTheServiceRequestAndOutputCarriesTheOutcomeSummary) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_CLOSED);
  r.set_reason("Goals met");
  r.add_connected_to("Men's Room");
  v1::OutcomeMeasure* m = r.add_outcome_measures();
  m->set_instrument("SWEMWBS");
  m->set_start_score(19.25);
  m->set_end_score(24.11);
  rapidjson::Document d = Parse(RenderFeedbackTask(Context(), r));
  EXPECT_STREQ(d["focus"]["type"].GetString(), "ServiceRequest");
  EXPECT_STREQ(d["focus"]["identifier"]["value"].GetString(), "0b7c3d1e-referral");
  EXPECT_STREQ(d["for"]["identifier"]["value"].GetString(), "9434765919");
  EXPECT_STREQ(d["statusReason"]["text"].GetString(), "Goals met");
  const auto& output = d["output"].GetArray();
  ASSERT_EQ(output.Size(), 4u);  // summary, one connection, start and end score
  EXPECT_STREQ(output[0]["type"]["text"].GetString(), "Outcome summary");
  EXPECT_STREQ(output[0]["valueString"].GetString(),
               "Closed: Goals met. Connected to: Men's Room. SWEMWBS 19.25 at start, 24.11 at end.");
  EXPECT_STREQ(output[1]["valueString"].GetString(), "Men's Room");
  EXPECT_DOUBLE_EQ(output[2]["valueDecimal"].GetDouble(), 19.25);
  EXPECT_DOUBLE_EQ(output[3]["valueDecimal"].GetDouble(), 24.11);
}

TEST(FeedbackTaskTest, HostileTextStaysValidJson) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_DECLINED);
  r.set_reason(std::string("quote\" backslash\\ newline\n bad\xff byte", 36));
  rapidjson::Document d = Parse(RenderFeedbackTask(Context(), r));
  EXPECT_TRUE(d["statusReason"]["text"].IsString());
}

TEST(FeedbackHl7v2Test, AnRriI12ThatAnHl7ReaderReadsBack) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_CONNECTED);
  r.add_connected_to("Walking | club ^ with ~ delimiters");
  const std::string er7 = RenderFeedbackHl7v2(Context(), r);
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(er7, Hl7Limits{});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->Field("MSH", 9, 1, 1), "RRI");
  EXPECT_EQ(m->Field("MSH", 9, 1, 2), "I12");
  EXPECT_EQ(m->Field("MSH", 6), "R9T01");
  EXPECT_EQ(m->Field("MSH", 10), "FB42");
  EXPECT_EQ(m->Field("RF1", 1), "A");
  EXPECT_EQ(m->Field("RF1", 6), "TGH-REF-1");
  EXPECT_EQ(m->Field("RF1", 11), "0b7c3d1e-referral");
  EXPECT_EQ(m->Field("PID", 3), "9434765919");
  EXPECT_EQ(m->Field("PRD", 7), "tameside-ashton-all");
  EXPECT_EQ(m->Field("OBX", 5, 1, 1), "connected");
  EXPECT_EQ(m->Field("OBX", 5, 2, 1), "871731000000106");
  const std::vector<size_t> obx = m->FindSegments("OBX");
  ASSERT_EQ(obx.size(), 2u);
  EXPECT_EQ(m->Value(obx[1], 5), "Walking | club ^ with ~ delimiters") << "escaped and read back";
}

TEST(FeedbackHl7v2Test, DeclinedIsARejectedReferralWithTheDeclinedCode) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_DECLINED);
  r.set_reason("Not now");
  absl::StatusOr<Hl7Message> m = Hl7Message::Parse(RenderFeedbackHl7v2(Context(), r), Hl7Limits{});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Field("RF1", 1), "R");
  EXPECT_EQ(m->Field("OBX", 5, 2, 1), "871711000000103");
}

}  // namespace
}  // namespace frontdoor::adapters
