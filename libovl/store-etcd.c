/* store-etcd.c - (being written) */
