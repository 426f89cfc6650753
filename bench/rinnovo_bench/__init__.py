"""The benchmark suite of Rinnovo: figures on the real Kafka and MongoDB-wire servers.

Every figure that matters is a ratio to a baseline measured in the same run, on the same
servers, so a noisy or shared machine moves numerator and denominator together.
"""
