/*
 * libcurl-ceiling: how fast ANY sender built on libcurl can go on this machine.
 *
 * Sends one fixed payload N times to one server over C connections of one libcurl multi handle, each
 * connection reused for the next transfer: the transport rekey uses, with everything rekey adds taken away
 * (no templates, MIME, signing or store). scripts/bench-smtp and scripts/bench-webhooks build and run it
 * next to their baselines and ceilings.
 *
 *   cc -O2 -pthread -o libcurl-ceiling libcurl-ceiling.c -lcurl
 *   ./libcurl-ceiling smtp smtp://127.0.0.1:PORT N C BODY_BYTES   one pre-composed message of BODY_BYTES text
 *   ./libcurl-ceiling smtp-threads smtp://127.0.0.1:PORT N C BODY_BYTES
 *                                       the same, but a thread and easy handle per connection (how rekey drives SMTP:
 *                                       libcurl 7.88 blocks a multi handle while it waits for the reply to the final dot)
 *   ./libcurl-ceiling http http://127.0.0.1:PORT/hook N C FILE    POST FILE with the Standard Webhooks header
 *                                                                 names (fixed values); 2xx counts as delivered
 *
 * Prints one JSON line: {"delivered": …, "failed": …, "seconds": …} (seconds from the first transfer to the last).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *payload;
static size_t payload_length;

struct job {
    CURL *easy;
    size_t offset;
};

/* SMTP: the message, from the start for each transfer. */
static size_t supply(char *buffer, size_t size, size_t count, void *userdata) {
    struct job *job = userdata;
    size_t room = size * count, left = payload_length - job->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, payload + job->offset, n);
    job->offset += n;
    return n;
}

/* HTTP: response bodies are dropped. */
static size_t discard(char *data, size_t size, size_t count, void *userdata) {
    (void)data;
    (void)userdata;
    return size * count;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void compose_message(long body) {
    const char *head = "From: <from@example.com>\r\nTo: <to@example.com>\r\nSubject: libcurl ceiling\r\n"
                       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
    size_t head_length = strlen(head);
    payload = malloc(head_length + (size_t)body + 80);
    memcpy(payload, head, head_length);
    payload_length = head_length;
    while ((long)(payload_length - head_length) < body) { /* 76 x 'x' + CR LF per line */
        memset(payload + payload_length, 'x', 76);
        memcpy(payload + payload_length + 76, "\r\n", 2);
        payload_length += 78;
    }
}

static int read_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        perror(path);
        return -1;
    }
    payload = malloc(65536);
    payload_length = fread(payload, 1, 65536, file);
    fclose(file);
    return 0;
}

/* smtp-threads: each thread sends on its own reused connection until N messages have been taken. */
static atomic_long taken, sent_ok, sent_failed;
static long thread_total;
static const char *thread_url;

static void *sender(void *unused) {
    (void)unused;
    struct job job = {curl_easy_init(), 0};
    struct curl_slist *rcpt = curl_slist_append(NULL, "<to@example.com>");
    curl_easy_setopt(job.easy, CURLOPT_URL, thread_url);
    curl_easy_setopt(job.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(job.easy, CURLOPT_MAIL_FROM, "<from@example.com>");
    curl_easy_setopt(job.easy, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(job.easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(job.easy, CURLOPT_READFUNCTION, supply);
    curl_easy_setopt(job.easy, CURLOPT_READDATA, &job);
    while (atomic_fetch_add(&taken, 1) < thread_total) {
        job.offset = 0;
        if (curl_easy_perform(job.easy) == CURLE_OK) atomic_fetch_add(&sent_ok, 1); else atomic_fetch_add(&sent_failed, 1);
    }
    curl_easy_cleanup(job.easy);
    curl_slist_free_all(rcpt);
    return NULL;
}

static int run_threads(const char *url, long total, long connections) {
    pthread_t *threads = calloc((size_t)connections, sizeof *threads);
    thread_total = total;
    thread_url = url;
    double begin = now();
    for (long i = 0; i < connections; i++) pthread_create(&threads[i], NULL, sender, NULL);
    for (long i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    double seconds = now() - begin;
    long delivered = atomic_load(&sent_ok), failed = atomic_load(&sent_failed);
    printf("{\"delivered\": %ld, \"failed\": %ld, \"seconds\": %.6f}\n", delivered, failed, seconds);
    return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    int threads = argc == 6 && strcmp(argv[1], "smtp-threads") == 0;
    int smtp = argc == 6 && (threads || strcmp(argv[1], "smtp") == 0), http = argc == 6 && strcmp(argv[1], "http") == 0;
    long total = argc == 6 ? atol(argv[3]) : 0, connections = argc == 6 ? atol(argv[4]) : 0;
    if ((!smtp && !http) || total < 1 || connections < 1) {
        fprintf(stderr, "usage: %s smtp|smtp-threads URL MESSAGES CONNECTIONS BODY_BYTES\n       %s http URL REQUESTS CONNECTIONS BODY_FILE\n",
                argv[0], argv[0]);
        return 2;
    }
    const char *url = argv[2];
    if (connections > total) connections = total;
    if (smtp) {
        compose_message(atol(argv[5]));
    } else if (read_file(argv[5]) != 0) {
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (threads) return run_threads(url, total, connections);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, connections);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, connections);
    struct curl_slist *list = NULL;
    if (smtp) {
        list = curl_slist_append(NULL, "<to@example.com>");
    } else {
        const char *fixed[] = {"Content-Type: application/json", "User-Agent: rekey/0.1", "Expect:",
                               "webhook-id: msg_2q4b3BmXJrCzV6pT9hLkWfN0aYe", "webhook-timestamp: 1764374400",
                               "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="};
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) list = curl_slist_append(list, fixed[i]);
    }
    struct job *jobs = calloc((size_t)connections, sizeof *jobs);
    for (long i = 0; i < connections; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, &jobs[i]);
        if (smtp) {
            curl_easy_setopt(easy, CURLOPT_MAIL_FROM, "<from@example.com>");
            curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, list);
            curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(easy, CURLOPT_READFUNCTION, supply);
            curl_easy_setopt(easy, CURLOPT_READDATA, &jobs[i]);
        } else {
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)payload_length);
            curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
            curl_easy_setopt(easy, CURLOPT_PROXY, "");
        }
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
            long status = 0;
            curl_easy_getinfo(done->easy_handle, CURLINFO_PRIVATE, (char **)&job);
            curl_easy_getinfo(done->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            int ok = done->data.result == CURLE_OK && (smtp || (status >= 200 && status < 300));
            if (ok) delivered++; else failed++;
            finished++;
            curl_multi_remove_handle(multi, job->easy);
            if (started < total) { /* the same handle again: its connection is reused */
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
