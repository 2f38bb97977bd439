// The console's pieces without a server: forms read by Boost.URL, CSRF tokens bound to a person,
// the search a form asks for, records in plain words, and templates that escape what they show.
#include <string>

#include "gateway/console/audit_pages.h"
#include "gateway/console/console_forms.h"
#include "gateway/console/console_pages.h"
#include "gateway/console/record_words.h"
#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

TEST(ConsoleFormsTest, FormEncodingIsDecodedPlusAsSpaceAndPercentEscapes) {
  absl::StatusOr<FormFields> form = ParseForm("nhs_number=999+195+1024&referrer_ods=P85901&detail=a%26b%3Dc&empty=");
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->Get("nhs_number"), "999 195 1024");
  EXPECT_EQ(form->Get("detail"), "a&b=c");
  EXPECT_EQ(form->Get("empty"), "");
  EXPECT_EQ(form->Get("absent"), "");
}

TEST(ConsoleFormsTest, HostileFormsAreRefusedNotCrashedOn) {
  EXPECT_FALSE(ParseForm("a=%zz").ok()) << "a broken escape";
  std::string many;
  for (int i = 0; i < 65; ++i) many += "f" + std::to_string(i) + "=1&";
  EXPECT_FALSE(ParseForm(many).ok()) << "too many fields";
  EXPECT_FALSE(ParseForm("a=" + std::string(5000, 'x')).ok()) << "a field too long";
  EXPECT_TRUE(ParseForm("").ok());
}

TEST(ConsoleFormsTest, ACsrfTokenIsGoodOnlyForItsPersonAndItsGateway) {
  CsrfTokens tokens;
  const std::string mine = tokens.TokenFor("ig-officer-oldham");
  EXPECT_TRUE(tokens.Check("ig-officer-oldham", mine));
  EXPECT_FALSE(tokens.Check("frontdoor-operator", mine)) << "another person's token";
  EXPECT_FALSE(tokens.Check("ig-officer-oldham", "")) << "no token";
  EXPECT_FALSE(tokens.Check("ig-officer-oldham", mine.substr(1))) << "a truncated token";
  CsrfTokens restarted;
  EXPECT_FALSE(restarted.Check("ig-officer-oldham", mine)) << "a token from before a restart";
}

TEST(AuditSearchFromFormTest, FieldsBecomeTheQueryWithWholeDays) {
  absl::StatusOr<FormFields> form = ParseForm(
      "nhs_number=999+195+1024&referrer_ods=+P85901+&action=decide&outcome=refuse&rule_id=IG-1"
      "&from=2026-12-01&to=2026-12-05");
  ASSERT_TRUE(form.ok());
  absl::StatusOr<v1::QueryAuditRequest> q = AuditSearchFromForm(*form);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->nhs_number(), "9991951024");
  EXPECT_EQ(q->referrer_ods(), "P85901");
  EXPECT_EQ(q->action(), "decide");
  EXPECT_EQ(q->outcome(), "refuse");
  EXPECT_EQ(q->rule_id(), "IG-1");
  EXPECT_EQ(q->from_time(), "2026-12-01T00:00:00Z");
  EXPECT_EQ(q->to_time(), "2026-12-06T00:00:00Z") << "`to` takes in the whole of its day";
}

TEST(AuditSearchFromFormTest, WhatCannotBeSearchedIsSaidInWords) {
  for (const char* body : {"nhs_number=9991951025", "from=2026-13-01", "from=yesterday", "action=delete",
                           "outcome=maybe", "rule_id=IG-99", "from=2026-12-05&to=2026-12-01"}) {
    SCOPED_TRACE(body);
    absl::StatusOr<v1::QueryAuditRequest> q = AuditSearchFromForm(*ParseForm(body));
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(q.status().message().empty());
  }
}

TEST(RecordWordsTest, ARefusalSaysWhyInPlainLanguage) {
  v1::AuditRecord r;
  r.set_action("decide");
  r.set_outcome("refuse");
  r.add_rule_ids("IG-1");
  r.add_rule_ids("IG-9");
  EXPECT_EQ(DescribeRecord(r), "referral refused: no consent in force (IG-1)");
  r.clear_rule_ids();
  r.add_rule_ids("OUT_OF_AREA");
  EXPECT_EQ(DescribeRecord(r), "referral refused: outside Oldham and Tameside (OUT_OF_AREA)");
}

TEST(RecordWordsTest, DeliveriesAndWithholdingsNameTheOrganisationAndCategories) {
  v1::AuditRecord r;
  r.set_action("withhold");
  r.set_outcome("withhold");
  r.set_recipient_endpoint("ageuk-oldham");
  r.add_withheld_categories("sexual-health");
  r.add_rule_ids("IG-5");
  EXPECT_EQ(DescribeRecord(r), "information withheld to ageuk-oldham: sexual-health (IG-5)");
  r.Clear();
  r.set_pruned(true);
  EXPECT_NE(DescribeRecord(r).find("pruned"), std::string::npos);
}

TEST(ConsolePagesTest, EveryPageIsThereAndParses) { EXPECT_TRUE(CheckConsolePages().ok()) << CheckConsolePages(); }

TEST(ConsolePagesTest, ValuesAreEscapedSoNoRecordCanBecomeMarkup) {
  kainjow::mustache::data view;
  view.set("title", "<script>alert(1)</script>");
  view.set("message", "\"><img src=x onerror=alert(1)>");
  view.set("back_href", "/audit");
  view.set("back_text", "back");
  absl::StatusOr<std::string> html = RenderPage("problem", view);
  ASSERT_TRUE(html.ok()) << html.status();
  EXPECT_EQ(html->find("<script>alert"), std::string::npos);
  EXPECT_EQ(html->find("<img src=x"), std::string::npos);
  EXPECT_NE(html->find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html->find("&quot;&gt;&lt;img"), std::string::npos);
  EXPECT_EQ(html->find("<script"), std::string::npos) << "no page carries script at all";
}

}  // namespace
}  // namespace frontdoor::gateway
