// TXL
