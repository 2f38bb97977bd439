#include "gateway/security/authorization.h"

#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest()
      : network_(*network::NetworkDirectory::LoadDemo()),
        authz_(&network_, {"ig-officer-oldham"}, {"frontdoor-operator"}, {"commissioner-oldham"}) {}
  Caller Who(const std::string& identity) { return *authz_.Identify(identity); }

  network::NetworkDirectory network_;
  Authorizer authz_;
};

TEST_F(AuthorizerTest, KnowsEachKindOfCaller) {
  EXPECT_EQ(Who("P85901").kind, CallerKind::kReferrer);
  EXPECT_EQ(Who("R9T01").kind, CallerKind::kReferrer);
  EXPECT_EQ(Who("ageuk-oldham").kind, CallerKind::kConnector);
  EXPECT_EQ(Who("ig-officer-oldham").kind, CallerKind::kIgOfficer);
  EXPECT_EQ(Who("frontdoor-operator").kind, CallerKind::kOperator);
  EXPECT_EQ(Who("commissioner-oldham").kind, CallerKind::kCommissioner);
}

TEST_F(AuthorizerTest, CommissionersAndIgOfficersReadReportsAndCommissionersNothingElse) {
  EXPECT_TRUE(authz_.MayReadReports(Who("commissioner-oldham")).ok());
  EXPECT_TRUE(authz_.MayReadReports(Who("ig-officer-oldham")).ok());
  for (const char* other : {"P85901", "ageuk-oldham", "frontdoor-operator"}) {
    EXPECT_EQ(authz_.MayReadReports(Who(other)).code(), absl::StatusCode::kPermissionDenied) << other;
  }
  const Caller commissioner = Who("commissioner-oldham");
  EXPECT_EQ(authz_.MayReadAudit(commissioner).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MayOperate(commissioner).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MaySubmit(commissioner).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MayActOnReferral(commissioner, "P85901").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ActorOrganisation(commissioner), "commissioner");
}

TEST_F(AuthorizerTest, UnknownIdentityIsPermissionDenied) {
  EXPECT_EQ(authz_.Identify("X99999").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, OnlyReferrersSubmit) {
  EXPECT_TRUE(authz_.MaySubmit(Who("P85901")).ok());
  EXPECT_EQ(authz_.MaySubmit(Who("ageuk-oldham")).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MaySubmit(Who("ig-officer-oldham")).code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, AReferrerActsOnlyOnItsOwnReferrals) {
  EXPECT_TRUE(authz_.MayActOnReferral(Who("P85901"), "P85901").ok());
  EXPECT_EQ(authz_.MayActOnReferral(Who("P85902"), "P85901").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MayActOnReferral(Who("ageuk-oldham"), "P85901").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, AConnectorReportsOnlyOnReferralsRoutedToIt) {
  EXPECT_TRUE(authz_.MayReportOn(Who("ageuk-oldham"), "ageuk-oldham").ok());
  EXPECT_EQ(authz_.MayReportOn(Who("mind-oldham"), "ageuk-oldham").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MayReportOn(Who("P85901"), "ageuk-oldham").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, OnlyIgOfficersReadTheAuditAndOnlyOperatorsOperate) {
  EXPECT_TRUE(authz_.MayReadAudit(Who("ig-officer-oldham")).ok());
  EXPECT_EQ(authz_.MayReadAudit(Who("P85901")).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authz_.MayReadAudit(Who("frontdoor-operator")).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(authz_.MayOperate(Who("frontdoor-operator")).ok());
  EXPECT_EQ(authz_.MayOperate(Who("ig-officer-oldham")).code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace frontdoor::gateway
