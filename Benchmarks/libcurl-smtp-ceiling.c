/*
 * libcurl-smtp-ceiling: how fast ANY client that sends mail through libcurl can go on this machine.
 *
 * Sends N copies of one pre-composed message (no templates, no MIME work, no store) to an SMTP server over
 * C connections of one libcurl multi handle, each connection reused for many messages: the same transport
 * rekey uses, with everything rekey adds taken away. scripts/bench-smtp builds and runs it next to
 * smtp-source, so the gap between the two is what libcurl's SMTP (one command, one round trip; no
 * RFC 2920 pipelining) costs by itself.
 *
 *   cc -O2 -o libcurl-smtp-ceiling libcurl-smtp-ceiling.c -lcurl
 *   ./libcurl-smtp-ceiling smtp://127.0.0.1:PORT N C SIZE
 *
 * Prints one JSON line: {"delivered": …, "failed": …, "seconds": …} (seconds from the first transfer to the last).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    CURL *easy;
    size_t offset;
};

static char *message;
static size_t message_length;

static size_t supply(char *buffer, size_t size, size_t count, void *userdata) {
    struct job *job = userdata;
    size_t room = size * count, left = message_length - job->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, message + job->offset, n);
    job->offset += n;
    return n;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s smtp://HOST:PORT MESSAGES CONNECTIONS BODY_BYTES\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    long total = atol(argv[2]), connections = atol(argv[3]), body = atol(argv[4]);
    if (total < 1 || connections < 1 || body < 0) {
        fprintf(stderr, "MESSAGES and CONNECTIONS must be positive, BODY_BYTES not negative\n");
        return 2;
    }
    if (connections > total) connections = total;

    const char *head = "From: <from@example.com>\r\nTo: <to@example.com>\r\nSubject: libcurl ceiling\r\n"
                       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
    message = malloc(strlen(head) + body + 80);
    strcpy(message, head);
    message_length = strlen(head);
    while ((long)(message_length - strlen(head)) < body) {  /* 76 x 'x' + CRLF lines */
        memset(message + message_length, 'x', 76);
        memcpy(message + message_length + 76, "\r\n", 2);
        message_length += 78;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, connections);
    struct curl_slist *recipients = curl_slist_append(NULL, "<to@example.com>");
    struct job *jobs = calloc((size_t)connections, sizeof *jobs);
    for (long i = 0; i < connections; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_MAIL_FROM, "<from@example.com>");
        curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, recipients);
        curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, supply);
        curl_easy_setopt(easy, CURLOPT_READDATA, &jobs[i]);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, &jobs[i]);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        jobs[i].easy = easy;
        curl_multi_add_handle(multi, easy);
    }

    long started = connections, finished = 0, delivered = 0, failed = 0;
    double begin = now();
    while (finished < total) {
        int running = 0, queued = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *done;
        while ((done = curl_multi_info_read(multi, &queued))) {
            if (done->msg != CURLMSG_DONE) continue;
            struct job *job;
            curl_easy_getinfo(done->easy_handle, CURLINFO_PRIVATE, (char **)&job);
            if (done->data.result == CURLE_OK) delivered++; else failed++;
            finished++;
            curl_multi_remove_handle(multi, job->easy);
            if (started < total) {  /* the same handle again: its connection is reused */
                job->offset = 0;
                curl_multi_add_handle(multi, job->easy);
                started++;
            }
        }
        if (finished < total) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    double seconds = now() - begin;
    printf("{\"delivered\": %ld, \"failed\": %ld, \"seconds\": %.6f}\n", delivered, failed, seconds);
    return failed == 0 ? 0 : 1;
}
