#include "gateway/services/reflection_v1.h"

#include <set>
#include <utility>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace frontdoor::gateway {

namespace {

namespace pb = ::google::protobuf;
namespace rv1 = ::grpc::reflection::v1;

void Error(rv1::ServerReflectionResponse* response, grpc::StatusCode code, const std::string& message) {
  rv1::ErrorResponse* error = response->mutable_error_response();
  error->set_error_code(static_cast<int32_t>(code));
  error->set_error_message(message);
}

// `file`, then every file it imports, directly or not, each once.
void AddFileAndDependencies(const pb::FileDescriptor* file, std::set<std::string>* seen,
                            rv1::FileDescriptorResponse* out) {
  if (!seen->insert(file->name()).second) return;
  pb::FileDescriptorProto proto;
  file->CopyTo(&proto);
  out->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) AddFileAndDependencies(file->dependency(i), seen, out);
}

void AnswerWithFile(const pb::FileDescriptor* file, const std::string& what, rv1::ServerReflectionResponse* response) {
  if (file == nullptr) return Error(response, grpc::StatusCode::NOT_FOUND, what + " is not known to this server");
  std::set<std::string> seen;
  AddFileAndDependencies(file, &seen, response->mutable_file_descriptor_response());
}

}  // namespace

ReflectionV1Service::ReflectionV1Service(std::vector<std::string> services) : services_(std::move(services)) {}

rv1::ServerReflectionResponse ReflectionV1Service::Answer(const rv1::ServerReflectionRequest& request) const {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  rv1::ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  switch (request.message_request_case()) {
    case rv1::ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case rv1::ServerReflectionRequest::kFileByFilename:
      AnswerWithFile(pool->FindFileByName(request.file_by_filename()), "file " + request.file_by_filename(), &response);
      break;
    case rv1::ServerReflectionRequest::kFileContainingSymbol:
      AnswerWithFile(pool->FindFileContainingSymbol(request.file_containing_symbol()),
                     "symbol " + request.file_containing_symbol(), &response);
      break;
    case rv1::ServerReflectionRequest::kFileContainingExtension: {
      const rv1::ExtensionRequest& ext = request.file_containing_extension();
      const pb::Descriptor* type = pool->FindMessageTypeByName(ext.containing_type());
      const pb::FieldDescriptor* field =
          type == nullptr ? nullptr : pool->FindExtensionByNumber(type, ext.extension_number());
      AnswerWithFile(field == nullptr ? nullptr : field->file(),
                     "extension " + std::to_string(ext.extension_number()) + " of " + ext.containing_type(), &response);
      break;
    }
    case rv1::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const pb::Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        Error(&response, grpc::StatusCode::NOT_FOUND,
              "type " + request.all_extension_numbers_of_type() + " is not known to this server");
        break;
      }
      std::vector<const pb::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      rv1::ExtensionNumberResponse* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const pb::FieldDescriptor* e : extensions) numbers->add_extension_number(e->number());
      break;
    }
    default:
      Error(&response, grpc::StatusCode::UNIMPLEMENTED, "an empty or unknown reflection request");
  }
  return response;
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<rv1::ServerReflectionResponse, rv1::ServerReflectionRequest>* stream) {
  rv1::ServerReflectionRequest request;
  while (stream->Read(&request)) {
    if (!stream->Write(Answer(request))) break;
  }
  return grpc::Status::OK;
}

}  // namespace frontdoor::gateway
