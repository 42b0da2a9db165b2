"""Behavioural wallbox simulators: real Modbus TCP servers on loopback.

They are driven by the same register maps as the integration, and answer the
way the vendor documents say the boxes do.  Not shipped to users.  They import
the device layer as the package ``custom_components.wallbox_modbus.charger``,
which imports nothing from Home Assistant.
"""
