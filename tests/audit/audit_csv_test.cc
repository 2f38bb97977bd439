// Audit records as CSV, as both the CLI and the web console export them: RFC 4180 quoting, and no
// field a spreadsheet would run as a formula.
#include "audit/audit_csv.h"

#include "gtest/gtest.h"

namespace frontdoor::audit {
namespace {

TEST(AuditCsvTest, FieldsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(CsvField("P85901"), "P85901");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"no\""), "\"say \"\"no\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(""), "");
}

TEST(AuditCsvTest, WhatASpreadsheetWouldRunStaysText) {
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://evil\")"), "\"'=HYPERLINK(\"\"http://evil\"\")\"");
  EXPECT_EQ(CsvField("+1"), "'+1");
  EXPECT_EQ(CsvField("-2+3"), "'-2+3");
  EXPECT_EQ(CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvField("a=b"), "a=b") << "only a leading sign is a formula";
}

TEST(AuditCsvTest, ARowHasEveryColumnOfTheHeaderInOrder) {
  frontdoor::v1::AuditRecord r;
  r.set_index(7);
  r.set_time("2026-12-05T10:00:00Z");
  r.set_actor("P85901");
  r.set_nhs_number("9991951024");
  r.set_action("decide");
  r.set_outcome("refuse");
  r.add_rule_ids("IG-1");
  r.add_rule_ids("IG-9");
  r.set_detail("no consent, in force");
  EXPECT_EQ(AuditCsvHeader(),
            "index,time,actor,actor_organisation,nhs_number,referral_id,action,outcome,rule_ids,consent_reference,"
            "recipient_endpoint,referrer_ods,withheld_categories,lawful_basis,detail\n");
  EXPECT_EQ(AuditCsvRow(r),
            "7,2026-12-05T10:00:00Z,P85901,,9991951024,,decide,refuse,IG-1;IG-9,,,,,,\"no consent, in force\"\n");
}

}  // namespace
}  // namespace frontdoor::audit
