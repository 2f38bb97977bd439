// Server reflection v1 on a real gateway over loopback gRPC, asked as grpcurl asks: the services it
// serves, the file that defines one (with the files it imports, so a client can build the
// descriptors), and a clear NOT_FOUND for a symbol it does not have.
#include <set>
#include <string>

#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace rv1 = ::grpc::reflection::v1;

class ReflectionV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GatewayServer::Start(testing::LoopbackGatewayOptions(dir_.path(), connector_.address()), &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = rv1::ServerReflection::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  // Sends each request on one stream, as a tool does, and returns the answers in order.
  std::vector<rv1::ServerReflectionResponse> Ask(const std::vector<rv1::ServerReflectionRequest>& requests) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = stub_->ServerReflectionInfo(&context);
    std::vector<rv1::ServerReflectionResponse> answers;
    for (const rv1::ServerReflectionRequest& request : requests) {
      EXPECT_TRUE(stream->Write(request));
      rv1::ServerReflectionResponse answer;
      EXPECT_TRUE(stream->Read(&answer));
      answers.push_back(answer);
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return answers;
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<rv1::ServerReflection::Stub> stub_;
};

TEST_F(ReflectionV1Test, ListsTheServicesAndDescribesEachWithTheFilesItImports) {
  rv1::ServerReflectionRequest list;
  list.set_list_services("");
  rv1::ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("frontdoor.v1.ReferralService");
  rv1::ServerReflectionRequest method;
  method.set_file_containing_symbol("frontdoor.v1.ReferralService.SubmitReferral");
  const std::vector<rv1::ServerReflectionResponse> answers = Ask({list, symbol, method});
  ASSERT_EQ(answers.size(), 3u);

  std::set<std::string> services;
  for (const rv1::ServiceResponse& s : answers[0].list_services_response().service()) services.insert(s.name());
  for (const char* name :
       {"frontdoor.v1.ReferralService", "frontdoor.v1.FeedbackService", "frontdoor.v1.AuditService",
        "frontdoor.v1.AdminService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"}) {
    EXPECT_TRUE(services.count(name)) << name;
  }

  for (int i : {1, 2}) {
    const rv1::FileDescriptorResponse& files = answers[i].file_descriptor_response();
    ASSERT_GT(files.file_descriptor_proto_size(), 1) << "the file and what it imports";
    google::protobuf::FileDescriptorProto first;
    ASSERT_TRUE(first.ParseFromString(files.file_descriptor_proto(0)));
    EXPECT_EQ(first.name(), "frontdoor/v1/referral_service.proto");
    ASSERT_GT(first.service_size(), 0);
    EXPECT_EQ(first.service(0).name(), "ReferralService");
    std::set<std::string> names;
    for (const std::string& bytes : files.file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      EXPECT_TRUE(names.insert(file.name()).second) << "each file once: " << file.name();
    }
    for (const std::string& dependency : first.dependency()) EXPECT_TRUE(names.count(dependency)) << dependency;
  }
  EXPECT_EQ(answers[1].original_request().file_containing_symbol(), "frontdoor.v1.ReferralService");
}

TEST_F(ReflectionV1Test, AnUnknownSymbolIsNotFoundAndTheStreamGoesOn) {
  rv1::ServerReflectionRequest unknown;
  unknown.set_file_containing_symbol("frontdoor.v1.NoSuchService");
  rv1::ServerReflectionRequest file;
  file.set_file_by_filename("frontdoor/v1/referral.proto");
  const std::vector<rv1::ServerReflectionResponse> answers = Ask({unknown, file});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].error_response().error_code(), static_cast<int32_t>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(answers[0].error_response().error_message().find("frontdoor.v1.NoSuchService"), std::string::npos);
  google::protobuf::FileDescriptorProto first;
  ASSERT_TRUE(first.ParseFromString(answers[1].file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(first.name(), "frontdoor/v1/referral.proto");
}

}  // namespace
}  // namespace frontdoor::gateway
