// WriteSocketNow: a bufferevent's output written from the caller, over a
// real socketpair.
#include "proxy/socket_io.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace strata {
namespace {

class SocketWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event_base_new();
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    ASSERT_EQ(fcntl(fds_[0], F_SETFL, O_NONBLOCK), 0);
    int small = 4096;  // a socket that fills quickly
    setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    bev_ = bufferevent_socket_new(base_, fds_[0], BEV_OPT_CLOSE_ON_FREE);
  }
  void TearDown() override {
    bufferevent_free(bev_);
    close(fds_[1]);
    event_base_free(base_);
  }

  // Everything the peer can read now.
  std::string ReadPeer() {
    std::string got;
    char buf[65536];
    fcntl(fds_[1], F_SETFL, O_NONBLOCK);
    for (;;) {
      ssize_t n = read(fds_[1], buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

  event_base* base_ = nullptr;
  int fds_[2] = {-1, -1};
  bufferevent* bev_ = nullptr;
};

TEST_F(SocketWriteTest, WritesEverythingTheSocketTakesWithoutTheLoop) {
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, "HTTP/1.1 200 OK\r\n\r\n", 19);
  evbuffer_add(out, "body", 4);
  EXPECT_TRUE(WriteSocketNow(bev_));
  EXPECT_EQ(evbuffer_get_length(out), 0u);
  EXPECT_EQ(ReadPeer(), "HTTP/1.1 200 OK\r\n\r\nbody");
}

TEST_F(SocketWriteTest, LeavesWhatAFullSocketRefusesInOrder) {
  evbuffer* out = bufferevent_get_output(bev_);
  std::string big;
  for (int i = 0; i < 200000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  evbuffer_add(out, big.data(), big.size());
  EXPECT_FALSE(WriteSocketNow(bev_));
  size_t left = evbuffer_get_length(out);
  ASSERT_GT(left, 0u);
  ASSERT_LT(left, big.size());
  // The rest goes out, in order, once the peer reads.
  std::string got = ReadPeer();
  while (got.size() < big.size()) {
    WriteSocketNow(bev_);
    got += ReadPeer();
  }
  EXPECT_EQ(got, big);
  // The bufferevent's own writes still work: the front is frozen again.
  evbuffer_add(out, "x", 1);
  EXPECT_EQ(evbuffer_drain(out, 1), -1);
}

TEST_F(SocketWriteTest, ReadsMoreThanLibeventsFourKilobytesAtOnce) {
  std::string sent;
  for (int i = 0; i < 100000; ++i) sent.push_back(static_cast<char>('A' + i % 23));
  // The peer writes 100 KB; the socket holds it all (socketpair buffers).
  int big = 1 << 20;
  setsockopt(fds_[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  setsockopt(fds_[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  ASSERT_EQ(write(fds_[1], sent.data(), sent.size()), static_cast<ssize_t>(sent.size()));
  evbuffer* in = bufferevent_get_input(bev_);
  // Up to the limit asked for, no further.
  EXPECT_EQ(ReadSocketMore(bev_, 30000), 30000u);
  EXPECT_EQ(evbuffer_get_length(in), 30000u);
  EXPECT_EQ(ReadSocketMore(bev_, 1 << 20), sent.size() - 30000);
  ASSERT_EQ(evbuffer_get_length(in), sent.size());
  std::string got(sent.size(), '\0');
  ASSERT_EQ(evbuffer_remove(in, got.data(), got.size()), static_cast<int>(sent.size()));
  EXPECT_EQ(got, sent);
  // Nothing left: returns 0 without blocking; the input's end is frozen
  // again for the bufferevent's own reads.
  EXPECT_EQ(ReadSocketMore(bev_, 1 << 20), 0u);
  EXPECT_EQ(evbuffer_add(in, "x", 1), -1);
}

TEST_F(SocketWriteTest, ReportsAWriteToAClosedPeer) {
  signal(SIGPIPE, SIG_IGN);  // as the daemon does: the write fails with EPIPE
  close(fds_[1]);
  fds_[1] = -1;
  evbuffer_add(bufferevent_get_output(bev_), "lost", 4);
  EXPECT_FALSE(WriteSocketNow(bev_));
  fds_[1] = open("/dev/null", O_RDONLY);  // for TearDown
}

}  // namespace
}  // namespace strata
