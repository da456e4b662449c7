// ClientSession: one HTTP/1.1 client connection.
//
// It reads request heads, runs one Transaction at a time and answers
// pipelined requests in order (the next head is parsed only when the previous
// response is complete), applies keep-alive and the client-side timeouts, and
// closes the connection cleanly after a parse error (400).
//
// Memory: the client's input buffer stops reading at the high-water mark
// (http.buffer_high_water, at least the head limit), and the output buffer is
// only filled up to that mark, so a connection holds a bounded number of
// bytes however fast or slow either side is.
//
// Ownership: the Worker owns the session (intrusive list). A session never
// deletes itself inside a callback chain: Close() disarms it and schedules
// the deletion on the event loop, so no caller touches freed memory.
//
// Thread-safety: used only on its worker's thread.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include <boost/intrusive/list.hpp>
#include <string>

#include "proxy/http_parser.h"
#include "proxy/transaction.h"

namespace strata {

class Worker;

class ClientSession : public boost::intrusive::list_base_hook<> {
 public:
  ClientSession(Worker* worker, evutil_socket_t fd, const sockaddr* addr, int addr_len);
  ~ClientSession();

  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void Start();

  // Worker shutdown: close now when idle, otherwise after the current response.
  void Shutdown();

  // --- Used by the Transaction it carries. ---
  Worker* worker() const { return worker_; }
  bufferevent* bev() const { return bev_; }
  evbuffer* input() const;
  evbuffer* output() const;
  const std::string& client_ip() const { return client_ip_; }
  bool output_full() const;
  bool client_eof() const { return client_eof_; }
  bool closing() const { return closing_; }
  // Reading the request body (true) or not (false) decides the read timeout.
  void SetReadingBody(bool reading);
  // The transaction's response is complete; `close` ends the connection.
  void TransactionDone(bool close);
  // Flushes what is queued, then closes.
  void CloseAfterFlush();
  // Closes now, dropping anything queued.
  void Abort();
  // The client is gone but its transaction goes on (a cache fill): stop all
  // I/O on the socket; the session closes when the transaction ends.
  void DetachClient();

 private:
  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short events, void* arg);
  static void OnHeadTimeout(evutil_socket_t, short, void* arg);
  static void OnDestroy(evutil_socket_t, short, void* arg);
  static void OnResume(evutil_socket_t, short, void* arg);
  static void OnFlush(evutil_socket_t, short, void* arg);
  static void OnOutputChanged(evbuffer* buffer, const evbuffer_cb_info* info, void* arg);

  void ProcessInput();
  void Flush();
  void HandleWritable();
  void Resume();
  void Linger();
  void DiscardLingeringInput();
  void RejectRequest(const char* reason);
  void SetIdleTimeouts();
  void Close();

  Worker* worker_;
  bufferevent* bev_ = nullptr;
  std::string client_ip_;
  http::RequestParser parser_;
  Transaction transaction_;
  event head_timer_;    // request-head deadline, then the lingering-close deadline
  event resume_event_;  // runs the next pipelined request from the loop
  event flush_event_;   // writes what the current callback queued, once it returns
  bool flush_scheduled_ = false;
  bool detached_ = false;
  bool head_timer_armed_ = false;
  bool in_process_input_ = false;
  bool client_eof_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool lingering_ = false;
};

}  // namespace strata
