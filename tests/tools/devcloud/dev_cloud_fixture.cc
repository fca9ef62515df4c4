#include "tests/tools/devcloud/dev_cloud_fixture.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/test_env.h"
#include "tools/devcloud/env_file.h"

namespace cloudlink::devcloud_testing {

using cloudlink::devcloud::ParseEnvLines;
using cloudlink::testing::ReadFileOrEmpty;
using cloudlink::testing::Subprocess;
using cloudlink::testing::WaitFor;

NodeKey::NodeKey() : key(EVP_RSA_gen(2048)) {}
NodeKey::~NodeKey() { EVP_PKEY_free(key); }

std::string NodeKey::PublicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string NodeKey::Decrypt(const std::string& ciphertext) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  std::string out(ciphertext.size(), '\0');
  size_t len = out.size();
  bool ok = ctx != nullptr && EVP_PKEY_decrypt_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1 &&
            EVP_PKEY_decrypt(
                ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                reinterpret_cast<const unsigned char*>(ciphertext.data()),
                ciphertext.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return "";
  out.resize(len);
  return out;
}

std::string NewRsaPublicKeyPem() { return NodeKey().PublicPem(); }

std::string NewEcPublicKeyPem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

RunningDevCloud::RunningDevCloud(const std::string& dir) : dir_(dir) {
  // A server may close a connection the client still writes to.
  signal(SIGPIPE, SIG_IGN);
  static int starts = 0;
  unlink((dir + "/devcloud.env").c_str());
  cloudlink::testing::SubprocessOptions options;
  options.argv = {cloudlink::testing::RunfilePath("tools/devcloud/devcloud"),
                  "--dir", dir};
  options.stderr_path = absl::StrCat(dir, "/devcloud.log.", ++starts);
  auto process = Subprocess::Start(options);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return;
  process_ = *std::move(process);
  std::string pid_line = absl::StrCat("CLOUD_PID=", process_->pid());
  bool ready = WaitFor(
      [&] {
        return ReadFileOrEmpty(dir + "/devcloud.env").find(pid_line) !=
               std::string::npos;
      },
      absl::Seconds(30));
  EXPECT_TRUE(ready) << process_->Stderr();
  for (const auto& [key, value] :
       ParseEnvLines(ReadFileOrEmpty(dir + "/devcloud.env"))) {
    env_[key] = value;
  }
}

int RunningDevCloud::Stop() {
  if (!process_) return -1;
  process_->Signal(SIGTERM);
  auto status = process_->Wait(absl::Seconds(15));
  EXPECT_TRUE(status.ok()) << "dev cloud did not stop on SIGTERM";
  return status.ok() ? *status : -1;
}

std::string RunningDevCloud::env(const std::string& key) const {
  auto it = env_.find(key);
  return it == env_.end() ? "" : it->second;
}

int RunningDevCloud::port() const {
  std::string url = env("CLOUD_URL");
  return url.empty() ? 0 : std::stoi(url.substr(url.rfind(':') + 1));
}

std::unique_ptr<httplib::SSLClient> RunningDevCloud::Client() const {
  auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", port());
  client->set_ca_cert_path(env("CLOUD_CA").c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(5);
  client->set_read_timeout(15);
  return client;
}

httplib::Headers RunningDevCloud::AdminBearer() const {
  return {{"Authorization", "Bearer " + env("ADMIN_API_TOKEN")}};
}

MqttTestClient::MqttTestClient(const std::string& username,
                               const std::string& password) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(nullptr, true, this);
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_username_pw_set(mosq_, username.c_str(), password.c_str());
  mosquitto_connect_v5_callback_set(mosq_, &OnConnect);
  mosquitto_publish_v5_callback_set(mosq_, &OnPublish);
  mosquitto_subscribe_v5_callback_set(mosq_, &OnSubscribe);
  mosquitto_message_v5_callback_set(mosq_, &OnMessage);
  mosquitto_disconnect_v5_callback_set(mosq_, &OnDisconnect);
}

MqttTestClient::~MqttTestClient() {
  mosquitto_disconnect(mosq_);
  // The loop thread ends after the disconnect; cancelling it could leave
  // libmosquitto's mutexes locked.
  if (loop_started_) mosquitto_loop_stop(mosq_, /*force=*/false);
  mosquitto_destroy(mosq_);
  mosquitto_lib_cleanup();
}

void MqttTestClient::SetWill(const std::string& topic,
                             const std::string& payload) {
  mosquitto_will_set_v5(mosq_, topic.c_str(), static_cast<int>(payload.size()),
                        payload.data(), 1, false, nullptr);
}

int MqttTestClient::Connect(int port, absl::Duration timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    connack_ = -2;
    disconnected_ = false;
  }
  if (mosquitto_connect_bind_v5(mosq_, "127.0.0.1", port, 30, nullptr,
                                nullptr) != MOSQ_ERR_SUCCESS) {
    return -1;
  }
  if (!loop_started_) {
    mosquitto_loop_start(mosq_);
    loop_started_ = true;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return connack_ != -2 || disconnected_; });
  return connack_ == -2 ? -1 : connack_;
}

int MqttTestClient::Publish(const std::string& topic,
                            const std::string& payload,
                            absl::Duration timeout) {
  int mid = 0;
  if (mosquitto_publish_v5(mosq_, &mid, topic.c_str(),
                           static_cast<int>(payload.size()), payload.data(), 1,
                           false, nullptr) != MOSQ_ERR_SUCCESS) {
    return -1;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return puback_.count(mid) > 0 || disconnected_; });
  return puback_.count(mid) > 0 ? puback_[mid] : -1;
}

int MqttTestClient::Subscribe(const std::string& topic,
                              absl::Duration timeout) {
  int mid = 0;
  if (mosquitto_subscribe_v5(mosq_, &mid, topic.c_str(), 1, 0, nullptr) !=
      MOSQ_ERR_SUCCESS) {
    return -1;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return suback_.count(mid) > 0; });
  return suback_.count(mid) > 0 ? suback_[mid] : -1;
}

absl::optional<MqttTestClient::Message> MqttTestClient::NextMessage(
    absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return !messages_.empty(); });
  if (messages_.empty()) return absl::nullopt;
  Message m = messages_.front();
  messages_.pop_front();
  return m;
}

void MqttTestClient::Disconnect(bool with_will) {
  mosquitto_disconnect_v5(mosq_, with_will ? 4 : 0, nullptr);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [&] { return disconnected_; });
}

void MqttTestClient::OnConnect(struct mosquitto*, void* self, int rc, int,
                               const mqtt5__property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->connack_ = rc;
  c->cv_.notify_all();
}

void MqttTestClient::OnPublish(struct mosquitto*, void* self, int mid, int rc,
                               const mqtt5__property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->puback_[mid] = rc;
  c->cv_.notify_all();
}

void MqttTestClient::OnSubscribe(struct mosquitto*, void* self, int mid,
                                 int count, const int* granted,
                                 const mqtt5__property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->suback_[mid] = count > 0 ? granted[0] : -1;
  c->cv_.notify_all();
}

void MqttTestClient::OnMessage(struct mosquitto*, void* self,
                               const struct mosquitto_message* message,
                               const mqtt5__property* props) {
  auto* c = static_cast<MqttTestClient*>(self);
  Message m;
  m.topic = message->topic;
  m.payload.assign(static_cast<const char*>(message->payload),
                   static_cast<size_t>(message->payloadlen));
  const mosquitto_property* p = props;
  char* name = nullptr;
  char* value = nullptr;
  bool first = true;
  while ((p = mosquitto_property_read_string_pair(
              first ? props : p, MQTT_PROP_USER_PROPERTY, &name, &value,
              !first)) != nullptr) {
    m.user_properties[name] = value;
    free(name);
    free(value);
    first = false;
  }
  std::lock_guard<std::mutex> lock(c->mu_);
  c->messages_.push_back(std::move(m));
  c->cv_.notify_all();
}

void MqttTestClient::OnDisconnect(struct mosquitto*, void* self, int,
                                  const mqtt5__property*) {
  auto* c = static_cast<MqttTestClient*>(self);
  std::lock_guard<std::mutex> lock(c->mu_);
  c->disconnected_ = true;
  c->cv_.notify_all();
}

}  // namespace cloudlink::devcloud_testing
