// A temporary folder for the data tests' small files, removed when the test ends.
// Shared by test/data/test_readers.cpp and test_loader.cpp.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ember::test {

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    // RAM-backed /dev/shm when there is one: the CIFAR test writes 60 MB that need not hit a disk.
    const std::filesystem::path shm = "/dev/shm";
    const auto root = ::access(shm.c_str(), W_OK) == 0 ? shm : std::filesystem::temp_directory_path();
    path_ = root / ("ember_test_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace ember::test
