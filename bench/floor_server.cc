// frontdoor-floor-server: the transport floor for benchmarks. It serves
// frontdoor.v1.ReferralService/SubmitReferral as a raw method that answers an empty response
// without reading the request: what gRPC over loopback costs on this machine with nothing else.
//   frontdoor-floor-server --listen 127.0.0.1:0 --ready-file FILE
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

class FloorService final : public frontdoor::v1::ReferralService::WithRawCallbackMethod_SubmitReferral<
                               frontdoor::v1::ReferralService::CallbackService> {
 public:
  grpc::ServerUnaryReactor* SubmitReferral(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer*,
                                           grpc::ByteBuffer* response) override {
    // An empty message is a buffer holding one empty slice (a default ByteBuffer is invalid).
    grpc::Slice empty;
    *response = grpc::ByteBuffer(&empty, 1);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0", ready_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--listen") == 0) listen = argv[i + 1];
    if (std::strcmp(argv[i], "--ready-file") == 0) ready_file = argv[i + 1];
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  FloorService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(2 << 20);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "frontdoor-floor-server: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  const std::string bound = listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port);
  std::fprintf(stderr, "frontdoor-floor-server listening on %s\n", bound.c_str());
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << bound << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
