// Files a user names for output (`plot -o`): only regular files, never the program's inputs,
// replaced whole with their mode kept. Real files in a temporary directory; the device case makes
// its own device node there (root only), never touching /dev.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "support/command.hpp"
#include "support/temp_dir.hpp"
#include "sys/output.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;

class OutputFile : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(m_temp.ok()); }
  std::string file(const std::string& name) const { return m_temp.file(name); }
  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string read(const std::string& path) {
    std::ostringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
  }
  // Only the files a test made: no temporary left behind.
  std::size_t entries() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(m_temp.path()), fs::directory_iterator{}));
  }
  test::TempDir m_temp{"output-test"};
};

TEST_F(OutputFile, ANewFileIsWritten) {
  ASSERT_TRUE(sys::replace_file(file("chart.svg"), "<svg/>", {}));
  EXPECT_EQ(read(file("chart.svg")), "<svg/>");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(OutputFile, AnExistingFileIsReplacedWithItsModeKept) {
  write(file("chart.svg"), "old and longer");
  ASSERT_EQ(::chmod(file("chart.svg").c_str(), 0640), 0);
  ASSERT_TRUE(sys::replace_file(file("chart.svg"), "new", {}));
  EXPECT_EQ(read(file("chart.svg")), "new");
  struct stat st {};
  ASSERT_EQ(::stat(file("chart.svg").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(OutputFile, AFifoADirectoryAndADeviceAreRefusedUntouched) {
  ASSERT_EQ(::mkfifo(file("fifo").c_str(), 0600), 0);
  auto fifo = sys::replace_file(file("fifo"), "x", {});
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().code(), Errc::invalid_argument);
  EXPECT_NE(fifo.error().message().find("is a FIFO, not a regular file; nothing written"), std::string::npos)
      << fifo.error().message();
  struct stat st {};
  ASSERT_EQ(::lstat(file("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));

  fs::create_directory(file("dir"));
  auto dir = sys::replace_file(file("dir"), "x", {});
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("is a directory"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(file("dir")));

  if (::geteuid() == 0) {  // a device node of our own, a copy of /dev/null's numbers
    ASSERT_EQ(::mknod(file("null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    auto device = sys::replace_file(file("null"), "x", {});
    ASSERT_FALSE(device);
    EXPECT_NE(device.error().message().find("is a character device"), std::string::npos);
    ASSERT_EQ(::lstat(file("null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
  }
  EXPECT_EQ(entries(), ::geteuid() == 0 ? 3u : 2u) << "no temporary left behind";
}

TEST_F(OutputFile, AnInputIsRefusedByAnyNameAndALinkIsFollowed) {
  write(file("history.db"), "precious");
  ASSERT_EQ(::link(file("history.db").c_str(), file("hard").c_str()), 0);
  ASSERT_EQ(::symlink(file("history.db").c_str(), file("soft").c_str()), 0);
  for (const char* name : {"history.db", "hard", "soft"}) {
    auto r = sys::replace_file(file(name), "svg", {file("history.db")});
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().message().find("which this command reads; nothing written"), std::string::npos)
        << r.error().message();
  }
  EXPECT_EQ(read(file("history.db")), "precious");

  write(file("old.svg"), "old");
  ASSERT_EQ(::symlink("old.svg", file("link.svg").c_str()), 0);
  ASSERT_TRUE(sys::replace_file(file("link.svg"), "new", {file("history.db")}));
  EXPECT_TRUE(fs::is_symlink(file("link.svg"))) << "the link stays";
  EXPECT_EQ(read(file("old.svg")), "new");

  ASSERT_EQ(::symlink("missing.svg", file("dangling").c_str()), 0);
  auto dangling = sys::replace_file(file("dangling"), "x", {});
  ASSERT_FALSE(dangling);
  EXPECT_NE(dangling.error().message().find("symbolic link to a file that does not exist"),
            std::string::npos);
}

// The command line: `plot -o` pointed at its own history, at a FIFO, or a fine file.
TEST_F(OutputFile, PlotNeverOverwritesItsHistoryOrAFifo) {
  std::string db = file("h.db");
  auto rec = test::run_pressure({"--proc-root", test::fixture("kernel-6.1-irq"), "record", "--db", db,
                                 "--count", "3", "--interval", "0.05"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  std::string before = read(db);

  auto self = test::run_pressure({"plot", "--db", db, "-o", db});
  EXPECT_EQ(self.exit_code, 2) << self.err;
  EXPECT_NE(self.err.find("-o " + db + ": is " + db + ", which this command reads; nothing written"),
            std::string::npos)
      << self.err;
  EXPECT_EQ(read(db), before);

  ASSERT_EQ(::mkfifo(file("fifo").c_str(), 0600), 0);
  auto fifo = test::run_pressure({"plot", "--db", db, "-o", file("fifo")});
  EXPECT_EQ(fifo.exit_code, 2) << fifo.err;
  EXPECT_NE(fifo.err.find("is a FIFO"), std::string::npos) << fifo.err;

  auto fine = test::run_pressure({"plot", "--db", db, "-o", file("chart.svg")});
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_NE(read(file("chart.svg")).find("<svg"), std::string::npos);
}

}  // namespace
}  // namespace pressure
