"""Data coming in: IoT devices over MQTT (and, later, open-data feed adapters)."""
