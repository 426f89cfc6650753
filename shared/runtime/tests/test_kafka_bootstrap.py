"""A list of brokers in ``KAFKA_BOOTSTRAP_SERVERS`` reaches every Kafka client as a list."""

from rinnovo.runtime.kafka import bootstrap_servers, client_options, make_broker
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.settings import InfraSettings

CLUSTER = InfraSettings(kafka_bootstrap_servers="kafka-1:9092, kafka-2:9092,kafka-3:9092")
ADDRESSES = ["kafka-1:9092", "kafka-2:9092", "kafka-3:9092"]


def test_a_comma_separated_list_is_split_into_addresses() -> None:
    assert bootstrap_servers(CLUSTER) == ADDRESSES
    assert bootstrap_servers(InfraSettings(kafka_bootstrap_servers="k:9092")) == ["k:9092"]
    # The producer and the admin client that creates topics are given the same list.
    assert client_options(CLUSTER)["bootstrap_servers"] == ADDRESSES


def test_the_broker_is_given_each_address_not_one_string_holding_them_all() -> None:
    # FastStream wraps a string in a list, so "a,b,c" would be one unresolvable host.
    broker = make_broker(CLUSTER, "orders", Metrics())
    [config] = broker.config.configs
    assert config.builder.keywords["bootstrap_servers"] == ADDRESSES
